#!/usr/bin/perl

# ir-access audit archive: the gateway's audit stream into one file per
# day, written to disk before it is acknowledged and trimmed, so that an
# archiver killed at any point (after reading, after writing, after
# acknowledging, after closing a day, after compressing it) loses and
# duplicates nothing; a line cut short set right; days closed with their
# digest, chained to the day before, compressed, and deleted after their
# years; what another consumer group has not read kept; the archiver run
# as a service until SIGTERM.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Digest::SHA qw(sha256_hex);
use POSIX qw(:sys_wait_h);
use Test::More;
use Time::HiRes qw(sleep time);
use IrTest;
use IrAudit;

my $t = IrTest->new;

$t->start_redis;
$t->client_cert('alice');

my $r = $t->redis;

# three days before today, as the gateway wrote them then: ids in the past

my $now = int(time * 1000);
my $today = $now - $now % 86400000;
my $old = chain('gw-old', 7, $today - 3 * 86400000 - 3600000);
my @past;

# a URI with what a client may send: bytes that are no UTF-8 (an overlong
# "/", a surrogate), control characters, quotes, UTF-8 of two and four bytes
my $odd = "/persons/\xff\xfe?q=\x01\"\\\xc0\xaf\xed\xa0\x80\xc3\xa9\xf0\x9f\x98\x80\x7f";

for my $d (3, 2, 1) {
    for my $i (1 .. 5) {
        my $ms = $today - $d * 86400000 + 43200000 + $i * 1000;
        push @past, ["$ms-0", decision($old, $ms, user => 'alice',
                                       subject => "day$d-$i",
                                       uri => $i == 3 ? $odd : '/x')];
    }
}

xadd($r, 'ir:audit', @past);

$t->write_config(<<'CONF', workers => 2);
    ir_access_redis %%REDIS%%;
    ir_access_audit stream=ir:audit;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        ir_access on;

        location / {
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }
    }
CONF

$t->start_nginx;

$t->org('bank', name => 'Bank');
$t->user('alice', ips => ['10.0.0.0/8']);

my %alice = (cert => 'alice', ip => '10.0.0.1');

# requests, and the stream once their entries have landed
sub requests {
    my ($n) = @_;
    my $before = $r->xlen('ir:audit');
    $t->get("/persons/$_", %alice) for 1 .. $n;
    for (1 .. 100) {
        last if $r->xlen('ir:audit') >= $before + $n;
        sleep 0.05;
    }
}

my $dir = $t->dir . '/archive';
my @archive = ('audit', 'archive', '--dir', $dir, '--once');
my %written;        # every entry the stream had, by id

sub remember {
    $written{ $_->[0] } = $_->[1] for stream_entries($r, 'ir:audit');
}

# the archive holds every entry remembered, once each, in order, as it was
sub archive_is_complete {
    my ($name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my @ids;
    my $same = 1;
    for (archive_lines($dir)) {
        my $f = parse_line($_) or do { $same = 0; next };
        next unless $f->[0] eq '_id';
        my ($x, $id, @fields) = @$f;
        push @ids, $id;
        $same = 0 unless $written{$id}
                         && join("\0", @fields)
                            eq join("\0", @{ $written{$id} });
    }

    my @want = sort { my @a = split /-/, $a; my @b = split /-/, $b;
                      $a[0] <=> $b[0] || $a[1] <=> $b[1] } keys %written;
    is(scalar @ids, scalar @want, "$name: every entry archived once");
    is_deeply(\@ids, \@want, "$name: in the stream's order");
    ok($same, "$name: field for field as the stream had it");
}

sub pending { ($r->xpending('ir:audit', 'ir-access-archive'))[0] // 0 }

requests(20);
remember();
is(scalar keys %written, 35, 'three past days and today in the stream');

# killed after reading: nothing written, all pending

my ($status, $signal, $out, $err) =
    run_tool($t, { IR_ACCESS_ARCHIVE_CRASH => 'read' }, @archive);
is($signal, 9, 'the archiver killed after it read a batch');
is(pending(), 35, 'the batch is pending in the group');
is(scalar(grep { /"_id"/ } archive_lines($dir)), 0, 'nothing written');

# killed after writing, before acknowledging: written, and pending

($status, $signal, $out, $err) =
    run_tool($t, { IR_ACCESS_ARCHIVE_CRASH => 'written' }, @archive);
is($signal, 9, 'killed after writing to disk, before XACK');
is(pending(), 35, 'nothing acknowledged');
is($r->xlen('ir:audit'), 35, 'nothing trimmed');
is(scalar(grep { /"_id"/ } archive_lines($dir)), 35, 'all written');

($status, $signal, $out, $err) = run_tool($t, {}, @archive);
is($status, 0, 'the archiver again') or diag($err);
like($out, qr/archived 0 entries into \S+ \(35 there already/,
     'what was written is not written again');
is(pending(), 0, 'all acknowledged now');
is($r->xlen('ir:audit'), 0, 'and trimmed');
archive_is_complete('after a crash between write and XACK');

# the past days were closed and compressed, today's is open

for my $d (3, 2, 1) {
    my $day = day_of($today - $d * 86400000);
    ok(-f "$dir/audit-$day.jsonl.gz" && !-e "$dir/audit-$day.jsonl",
       "$day closed and compressed");
}
ok(-f "$dir/audit-" . day_of($now) . '.jsonl', 'today\'s file open');

# as JSON that others read: jq, where it is there

SKIP: {
    skip 'no jq', 1 unless `which jq`;
    my $day = day_of($today - 86400000);
    is(system("gzip -dc $dir/audit-$day.jsonl.gz | jq -e . > /dev/null"), 0,
       'jq reads the day, odd bytes and all');
}

# killed after acknowledging, before trimming

requests(10);
remember();

($status, $signal, $out, $err) =
    run_tool($t, { IR_ACCESS_ARCHIVE_CRASH => 'acked' }, @archive);
is($signal, 9, 'killed after XACK, before XTRIM');
is($r->xlen('ir:audit'), 10, 'acknowledged, not trimmed');

($status, $signal, $out, $err) = run_tool($t, {}, @archive);
is($status, 0, 'the archiver again');
is($r->xlen('ir:audit'), 0, 'trimmed when it starts');
archive_is_complete('after a crash between XACK and XTRIM');

# a line cut short by a crash in the middle of a write

my $open = "$dir/audit-" . day_of($now) . '.jsonl';
open my $h, '>>', $open or die;
print $h '{"_id":"1-0","time":"2026-';
close $h;

requests(5);
remember();

($status, $signal, $out, $err) = run_tool($t, {}, @archive);
is($status, 0, 'the archiver after a line was cut short');
like($err, qr/ends with 26 bytes of a line being written.*cut off/,
     'the cut line is removed, and said') or diag($err);
archive_is_complete('after a cut line');

# another group's entries are kept until it has read them

$r->xgroup('CREATE', 'ir:audit', 'shipper', '$');
requests(5);
remember();

($status, $signal, $out, $err) = run_tool($t, {}, @archive);
is($r->xlen('ir:audit'), 5, 'archived, but not trimmed past the shipper\'s');

my $read = $r->xreadgroup('GROUP', 'shipper', 's1', 'COUNT', 100,
                          'STREAMS', 'ir:audit', '>');
$r->xack('ir:audit', 'shipper', map { $_->[0] } @{ $read->[0][1] });

($status, $signal, $out, $err) = run_tool($t, {}, @archive);
is($r->xlen('ir:audit'), 0, 'trimmed once the shipper has them');
archive_is_complete('with another group');

$r->xgroup('DESTROY', 'ir:audit', 'shipper');

# the days' digests, chained

my $prev = '0' x 64;
for my $d (3, 2, 1) {
    my $day = day_of($today - $d * 86400000);
    my @lines = split /\n/, `gzip -dc $dir/audit-$day.jsonl.gz`;
    my $closing = parse_line(pop @lines);
    my %c = @$closing;
    my %o = @{ parse_line($lines[0]) };

    is($o{prev}, $prev, "$day begins with the day before's digest");
    is($c{sha256}, sha256_hex(join('', map { "$_\n" } @lines)),
       "$day ends with the digest of its content");
    is($c{entries}, 5, "$day: five entries");

    ($status, $signal, $out) = run_tool($t, {}, 'audit', 'digest', '--dir',
                                        $dir, '--day', $day);
    is($out, "$day sha256:$c{sha256} entries:5 first:$c{first} "
             . "last:$c{last}\n", "$day: ir-access audit digest");
    $prev = $c{sha256};
}

is((split /\n/, `cat $open`)[0], '{"_opened":"' . day_of($now)
   . '","stream":"ir:audit","prev":"' . $prev . '"}',
   'today begins with yesterday\'s digest');

($status, $signal, $out) = run_tool($t, {}, 'audit', 'verify', '--dir', $dir);
is($status, 0, 'the archive and the stream verified') or diag($out);
like($out, qr/the trail holds together/, 'and hold together');

# read while the archiver takes from the stream: what it archived and
# trimmed between a tool's reading of the archive and of the stream is
# read from the archive, once

requests(6);
remember();
is($r->xlen('ir:audit'), 6, 'six entries not archived yet');

sub background {
    my ($out, @args) = @_;
    my $pid = fork // die;
    if ($pid == 0) {
        $ENV{IR_ACCESS_AUDIT_PAUSE} = 3;
        open STDOUT, '>', $t->dir . "/$out";
        open STDERR, '>', $t->dir . "/$out.err";
        my $tool = $ENV{IR_TOOL} || "$FindBin::Bin/../build/ir-access";
        exec { $tool } $tool, '--redis', $t->redis_addr, @args
            or POSIX::_exit(127);
    }
    return $pid;
}

my $vp = background('verify.out', 'audit', 'verify', '--dir', $dir);
my $qp = background('query.out', 'audit', 'query', '--dir', $dir, '--json');
sleep 1.5;

($status) = run_tool($t, {}, @archive);
is($r->xlen('ir:audit'), 0, 'archived and trimmed meanwhile');
requests(2);
remember();

waitpid $vp, 0;
is($? >> 8, 0, 'verify went on from the archive');
like(`cat ${\ $t->dir}/verify.out`,
     qr/verified ${\ scalar keys %written} entries .* 0 broken, 0 explained, 0 notes/,
     'every entry once, nothing broken');
waitpid $qp, 0;
my @ids = map { (parse_line($_) // [])->[1] } split /\n/, `cat ${\ $t->dir}/query.out`;
my %ids = map { $_ => 1 } @ids;
is(scalar @ids, scalar keys %written, 'query found every entry');
is(scalar keys %ids, scalar @ids, 'once');

# closing and compressing killed; days deleted after their years

my $dir2 = $t->dir . '/archive2';
my @archive2 = ('audit', 'archive', '--dir', $dir2, '--stream', 'ir:old',
                '--once', '--years', 1);
my $gw = chain('gw-2', 9, $today - 400 * 86400000);
my @days = (400, 3, 2, 1);
my %old;

for my $d (@days) {
    for my $i (1 .. 3) {
        my $ms = $today - $d * 86400000 + $i * 60000;
        $old{"$ms-0"} = decision($gw, $ms, subject => "s$i");
        xadd($r, 'ir:old', ["$ms-0", $old{"$ms-0"}]);
    }
}

my $first = day_of($today - 400 * 86400000);

($status, $signal, $out, $err) =
    run_tool($t, { IR_ACCESS_ARCHIVE_CRASH => 'closed' }, @archive2);
is($signal, 9, 'killed after closing a day');
ok(-f "$dir2/audit-$first.jsonl" && `tail -1 $dir2/audit-$first.jsonl`
   =~ /^\{"_closed":"$first","entries":3,/, 'closed, not compressed');

($status, $signal, $out, $err) =
    run_tool($t, { IR_ACCESS_ARCHIVE_CRASH => 'compressed' }, @archive2);
is($signal, 9, 'killed after compressing it, before the plain file went');
ok(-f "$dir2/audit-$first.jsonl" && -f "$dir2/audit-$first.jsonl.gz",
   'both files there');

($status, $signal, $out, $err) = run_tool($t, {}, @archive2);
is($status, 0, 'the archiver again') or diag($err);
like($err, qr/deleted the day $first: older than 1 years/,
     'a day older than --years is deleted');
is(join(' ', map { s{.*/}{}r } sort glob("$dir2/audit-*")),
   join(' ', map { 'audit-' . day_of($today - $_ * 86400000) . '.jsonl.gz' }
             3, 2, 1),
   'the later days closed and compressed, nothing left over');

@ids = map { (parse_line($_) // [])->[1] } grep { /"_id"/ }
       archive_lines($dir2);
is(scalar @ids, 9, 'nine entries of three days');

($status, $signal, $out) = run_tool($t, {}, 'audit', 'verify', '--dir',
                                    $dir2, '--stream', 'ir:old');
is($status, 0, 'verified');
like($out, qr/note: audit-\S+: the day before \(sha256 [0-9a-f]{64}\) is not read/,
     'the first day kept names a day that is gone');

# as a service: until SIGTERM

requests(7);
remember();

my $pid = fork // die;
if ($pid == 0) {
    open STDOUT, '>', $t->dir . '/service.out';
    open STDERR, '>', $t->dir . '/service.err';
    my $tool = $ENV{IR_TOOL} || "$FindBin::Bin/../build/ir-access";
    exec { $tool } $tool, '--redis', $t->redis_addr, 'audit', 'archive',
                          '--dir', $dir
        or POSIX::_exit(127);
}

sub drained {
    for (1 .. 100) {
        return 1 if $r->xlen('ir:audit') == 0;
        sleep 0.1;
    }
    return 0;
}

ok(drained(), 'the service archives what is there');
archive_is_complete('as a service');

requests(3);
ok(drained(), 'and what comes');
is(scalar(grep { /"_id"/ } archive_lines($dir)), scalar(keys %written) + 3,
   'all of it');

# those three were never seen in the stream: taken as archived
for (grep { /"_id"/ } archive_lines($dir)) {
    my ($x, $id, @f) = @{ parse_line($_) };
    $written{$id} //= \@f;
}

kill 'TERM', $pid;
my $gone = 0;
for (1 .. 100) {
    $gone = waitpid($pid, WNOHANG) and last;
    sleep 0.1;
}
is($gone, $pid, 'it stops on SIGTERM');
is($?, 0, 'with status 0');
like(`cat ${\ $t->dir}/service.out`, qr/archived 12 entries/,
     'and says what it did');

# the Redis users of docs/audit.md: the archiver's, the auditors'

$r->acl('SETUSER', 'ir-archiver', 'on', '>archiver-secret', 'resetkeys',
        '~ir:audit', 'resetchannels', '-@all', '+xreadgroup', '+xack',
        '+xgroup|create', '+xautoclaim', '+xinfo|groups', '+xpending',
        '+xtrim', '+time', '+select');
$r->acl('SETUSER', 'ir-auditor', 'on', '>auditor-secret', 'resetkeys',
        '~ir:audit', 'resetchannels', '-@all', '+xrange', '+select');

for (['archiver', 'archiver-secret'], ['auditor', 'auditor-secret']) {
    open my $p, '>', $t->dir . "/$_->[0].password" or die;
    print $p "$_->[1]\n";
    close $p;
}

requests(4);
remember();

($status, $signal, $out, $err) =
    run_tool($t, {}, '--user', 'ir-archiver', '--password-file',
             $t->dir . '/archiver.password', @archive);
is($status, 0, 'archived as the archiver\'s Redis user') or diag($err);
is($r->xlen('ir:audit'), 0, 'and trimmed');
archive_is_complete('as the archiver\'s Redis user');

requests(1);
($status, $signal, $out, $err) =
    run_tool($t, {}, '--redis-user', 'ir-auditor', '--password-file',
             $t->dir . '/auditor.password', 'audit', 'query', '--dir', $dir,
             '--user', 'alice', '--json');
is($status, 0, 'queried as the auditors\' Redis user') or diag($err);
is(scalar(split /\n/, $out), scalar(keys %written) + 1,
   'the archive and the stream');
# an alias's --user before the command is the Redis user, also in a query
# whose own --user is what is asked about
for my $as (['--user', 'ir-auditor'], ['--user=ir-auditor']) {
    my $q = 0;
    ($status, $signal, $out, $err) =
        run_tool($t, {}, @$as, '--password-file',
                 $t->dir . '/auditor.password', 'audit', 'query', '--dir',
                 $dir, '--user', 'alice', '--json');
    is($status, 0, "@$as before the command: the Redis user of a query")
        or diag($err);
    is(scalar(split /\n/, $out), scalar(keys %written) + 1,
       'and --user after it what is asked about');
}

($status, $signal, $out, $err) =
    run_tool($t, {}, '--user', 'ir-auditor', '--password-file',
             $t->dir . '/auditor.password', 'audit', 'verify', '--dir', $dir);
is($status, 0, 'verified as the auditors\' Redis user') or diag($out, $err);

$t->stop_nginx;
$t->check_log;

done_testing;
