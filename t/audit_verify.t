#!/usr/bin/perl

# ir-access audit verify: the gateway's chains of entries verified in the
# stream and in the archive, then broken and reported where and when:
# entries the gateway lost while Redis refused them (OOM), explained by
# its audit_dropped entry; an entry deleted with XDEL; a forged copy
# added with XADD; an archived line edited.  And, on entries laid out
# exactly: entries sent twice after a lost connection, entries out of
# order, a chain's missing start, a closed day changed, a day removed.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep time);
use IrTest;
use IrAudit;

my $t = IrTest->new;

$t->start_redis(notify => 'KA');
$t->client_cert('alice');

$t->write_config(<<'CONF', workers => 1);
    ir_access_redis %%REDIS%%;
    ir_access_cache zone=ir:1m ttl=1h;
    ir_access_redis_notify on;
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

my $r = $t->redis;

# the records before the gateway listens: no edit of them in the trail

$t->org('bank', name => 'Bank');
$t->user('alice', ips => ['10.0.0.0/8']);

$t->start_nginx;

my %alice = (cert => 'alice', ip => '10.0.0.1');

sub requests {
    my ($n, $event) = @_;
    my $before = $r->xlen('ir:audit');
    $t->get("/persons/$_", %alice) for 1 .. $n;
    for (1 .. 100) {
        last if $r->xlen('ir:audit') >= $before + $n;
        sleep 0.05;
    }
    sleep 0.2;
}

# without an archive unless one is named
mkdir $t->dir . '/none';

sub verify {
    run_tool($t, {}, 'audit', 'verify',
             (grep { $_ eq '--dir' } @_) ? () : ('--dir', $t->dir . '/none'),
             @_);
}

# the chain's entries, by seq: { id, time, fields }
sub chain_entries {
    my %c;
    for my $e (stream_entries($r, 'ir:audit')) {
        my %f = @{ $e->[1] };
        next unless $f{chain};
        push @{ $c{ $f{chain} } }, { id => $e->[0], %f, fields => $e->[1] };
    }
    return %c;
}

sub where { "$_[0]{time} (stream ir:audit $_[0]{id})" }

sub has {
    my ($out, $text, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    ok(index($out, $text) >= 0, $name) or diag("$out\nhas no\n$text");
}

requests(10);

my ($status, $signal, $out) = verify();
is($status, 0, 'a chain verified') or diag($out);
like($out, qr/verified 10 entries of 1 chains .* 0 broken, 0 explained/,
     'every entry, one writer');
like($out, qr/the trail holds together/, 'it holds together');

# Redis full: the gateway drops entries, and says so in the chain

$r->set('filler:' . $_, 'x' x 1024) for 1 .. 200;
my $used = $r->info('memory')->{used_memory};
$r->config_set('maxmemory-policy', 'noeviction');
$r->config_set('maxmemory', $used - 100 * 1024);

$t->expect_error(qr/ir_access: Redis refused an audit entry: OOM command not allowed /);

my $len = $r->xlen('ir:audit');
$t->get("/persons/x$_", %alice) for 1 .. 3;
sleep 0.3;
is($r->xlen('ir:audit'), $len, 'Redis refuses the entries (OOM)');

$r->config_set('maxmemory', 0);

my @dropped;
for (1 .. 100) {
    $t->get('/persons/after', %alice) if $_ == 1;
    @dropped = grep { ($_->{event} // '') eq 'audit_dropped' }
               $t->audit_entries(events => 1);
    last if @dropped;
    sleep 0.05;
}
is(scalar @dropped, 1, 'the gateway names its gap: audit_dropped');
like($dropped[0]{cause} // '', qr/^OOM/, 'with Redis\'s words');

my %c = chain_entries();
my ($id) = keys %c;
my @orig = @{ $c{$id} };
my ($gap) = grep { $orig[$_]{seq} != $orig[$_ - 1]{seq} + 1 } 1 .. $#orig;
my $seqs = ($orig[$gap - 1]{seq} + 1) . '-' . ($orig[$gap]{seq} - 1);

is($seqs, '11-13', 'three entries lost');

($status, $signal, $out) = verify();
is($status, 0, 'a gap the gateway explains breaks nothing') or diag($out);
has($out, "explained: chain $id: seqs $seqs missing, between "
          . where($orig[$gap - 1]) . ' and ' . where($orig[$gap])
          . ": dropped by the gateway, as its audit_dropped entry at "
          . "$dropped[0]{time} says: \"OOM command not allowed",
    'it is reported where and when, with the cause');

# an entry deleted: reported where it was, and the deletion named

my $victim = $orig[4];
$r->xdel('ir:audit', $victim->{id});

my @dels;
for (1 .. 100) {
    @dels = grep { ($_->{event} // '') eq 'audit_deleted' }
            $t->audit_entries(events => 1);
    last if @dels;
    sleep 0.05;
}
is(scalar @dels, 1, 'the gateway saw the XDEL');

($status, $signal, $out) = verify();
is($status, 1, 'a deleted entry breaks the chain');
has($out, "broken: chain $id: seq $victim->{seq} missing, between "
          . where($orig[3]) . ' and ' . where($orig[5]) . ': deleted (no '
          . 'audit_dropped entry of the chain names it); the trail records '
          . "a deletion (xdel) at $dels[0]{time}",
    'where and when, and the XDEL the gateway saw');
like($out, qr/THE TRAIL IS BROKEN/, 'said plainly');

# a forged copy: an entry again, its address changed

my $copied = $orig[7];
my @forged = @{ $copied->{fields} };
for (my $i = 0; $i < @forged; $i += 2) {
    $forged[$i + 1] = '192.0.2.66' if $forged[$i] eq 'ip';
}
my $forged_id = $r->xadd('ir:audit', '*', @forged);
sleep 0.1;

%c = chain_entries();
my @e = @{ $c{$id} };
my $f = { time => $copied->{time}, id => $forged_id };

($status, $signal, $out) = verify('--json');
is($status, 1, 'a forged entry breaks the chain');
has($out, "\"kind\":\"out_of_order\",\"chain\":\"$id\",\"message\":"
          . "\"seq $copied->{seq} at " . where($f) . " comes after seq "
          . "$e[-2]{seq} at " . where($e[-2]) . ', and is no copy of it: out '
          . 'of order, or forged"', 'the forged copy is named where it is');
like($out, qr/"broken":2,"explained":1/, 'two breaks and the explained gap');

# archived: the same findings, at their lines

my $dir = $t->dir . '/archive';
($status) = run_tool($t, {}, 'audit', 'archive', '--dir', $dir, '--once');
is($status, 0, 'archived');
is($r->xlen('ir:audit'), 0, 'and trimmed');

my $day = day_of(time * 1000);
my $file = "$dir/audit-$day.jsonl";
my @lines = archive_lines($dir);
my ($at) = grep { $lines[$_] =~ /"_id":"\Q$orig[5]{id}\E"/ } 0 .. $#lines;

($status, $signal, $out) = verify('--dir', $dir);
is($status, 1, 'still broken, from the archive');
has($out, "and $orig[5]{time} (audit-$day.jsonl:" . ($at + 1)
          . ", $orig[5]{id}): deleted", 'the gap located in the archive\'s file');

# an archived line edited

my ($line) = grep { $lines[$_] =~ /"_id":"\Q$orig[6]{id}\E"/ } 0 .. $#lines;
$lines[$line] =~ s/"ip":"10.0.0.1"/"ip":"10.0.0.2"/ or die;
open my $h, '>', $file or die;
print $h map { "$_\n" } @lines;
close $h;

($status, $signal, $out) = verify('--dir', $dir);
is($status, 1, 'an edited line breaks the chain');
has($out, "broken: chain $id: seq $orig[6]{seq} at $orig[6]{time} "
          . "(audit-$day.jsonl:" . ($line + 1) . ", $orig[6]{id}) is not "
          . "what the \"prev\" of seq $orig[7]{seq} at $orig[7]{time} "
          . "(audit-$day.jsonl:" . ($line + 2) . ", $orig[7]{id}) was taken "
          . 'of: one of them was changed', 'reported at its line');
like($out, qr/3 broken, 1 explained/, 'three breaks now');

$t->stop_nginx;
$t->check_log;

# entries laid out exactly ------------------------------------------------

my $now = int(time * 1000);
my $base = $now - $now % 86400000 - 4 * 86400000;
my $ms = $base + 3600000;
my @x;

sub at { my ($c, @f) = @_; $ms += 1000; return ["$ms-0", decision($c, $ms, @f)] }

# sent twice after a lost connection: seqs 4-6 again, the same

my $a = chain('gw-a', 1, $base);
push @x, at($a) for 1 .. 3;
my @resent = map { at($a) } 4 .. 6;
push @x, @resent;
for (@resent) { $ms += 1000; push @x, ["$ms-0", $_->[1]] }
push @x, at($a) for 7 .. 8;

# out of order: seq 3 after seq 4

my $b = chain('gw-b', 2, $base);
my @b = map { at($b) } 1 .. 5;
($b[2][1], $b[3][1]) = ($b[3][1], $b[2][1]);
push @x, @b;

# the gateway's own gap, named

my $g = chain('gw-g', 3, $base);
push @x, at($g) for 1 .. 2;
at($g) for 3 .. 4;
push @x, at($g);
$ms += 1000;
push @x, ["$ms-0", event($g, $ms, 'audit_dropped', seqs => '3-4',
                         cause => 'OOM command not allowed')];

# a chain begun after the trail, its first entries gone

my $s = chain('gw-s', 4, $ms + 500);
at($s) for 1 .. 2;
push @x, at($s) for 3 .. 4;

# days: one each, for a changed and a removed day

my $d = chain('gw-d', 5, $base);
for my $k (1 .. 3) {
    $ms = $base + $k * 86400000 + 1000;
    push @x, at($d) for 1 .. 2;
}

xadd($r, 'ir:x', @x);

($status, $signal, $out) = verify('--stream', 'ir:x');
is($status, 1, 'entries laid out: broken');
like($out, qr/^note: chain gw-a\S+: seqs 4-6 again from .*, the same entries: the gateway sent them again after a lost connection$/m,
     'sent twice: a note');
unlike($out, qr/broken: chain gw-a/, 'and nothing broken');
like($out, qr/^broken: chain gw-b\S+: seq 3 at .* comes after seq 4 at/m,
     'out of order');
unlike($out, qr/gw-b.*missing/, 'and not missing');
like($out, qr/^explained: chain gw-g\S+: seqs 3-4 missing/m,
     'a gap named by the gateway');
like($out, qr/^broken: chain gw-s\S+: seqs 1-2 missing, between the chain's start at \S+ and /m,
     'a chain\'s first entries gone');
like($out, qr/2 broken, 1 explained/, 'and nothing else');

my $dir2 = $t->dir . '/x';
($status) = run_tool($t, {}, 'audit', 'archive', '--dir', $dir2, '--stream',
                     'ir:x', '--once');
is($status, 0, 'archived');

my @days = map { day_of($base + $_ * 86400000) } 0 .. 3;
ok(-f "$dir2/audit-$days[2].jsonl.gz", 'into days closed');

# a closed day changed

my $gz = "$dir2/audit-$days[2].jsonl.gz";
system("gzip -dc $gz | sed 's/\"ip\":\"\"/\"ip\":\"192.0.2.1\"/' | gzip "
       . "> $gz.new && mv $gz.new $gz") == 0 or die;

($status, $signal, $out) = verify('--dir', $dir2, '--stream', 'ir:x');
is($status, 1, 'a changed day');
like($out, qr/^broken: audit-$days[2].jsonl.gz: its content is not what its closing line's sha256 \([0-9a-f]{64}\) was taken of/m,
     'the day\'s digest says so');
like($out, qr/^broken: chain gw-d\S+: seq 3 at .* was changed/m,
     'and the chain where');

# a day removed

unlink $gz;

($status, $signal, $out) = verify('--dir', $dir2, '--stream', 'ir:x');
like($out, qr/^broken: audit-$days[3].jsonl.gz:1: "prev" [0-9a-f]{64} is not the digest of the day before in the archive/m,
     'the next day no longer follows');
like($out, qr/^broken: chain gw-d\S+: seqs 3-4 missing/m,
     'and the chain misses the day\'s entries');

# the range asked for

($status, $signal, $out) = verify('--dir', $dir2, '--stream', 'ir:x',
                                  '--since', $days[3]);
is($status, 0, 'the last day alone holds together') or diag($out);
like($out, qr/note: 1 chains begin before what was read/,
     'its chain began before');

done_testing;
