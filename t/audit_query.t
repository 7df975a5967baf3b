#!/usr/bin/perl

# ir-access audit query: "who read this person's data?" answered from the
# archive and the stream together, in order: by subject, user,
# organisation, purpose, decision and time, as a table or JSON lines;
# Redis read a page at a time (every XRANGE with COUNT, seen in Redis's
# slow log with its threshold at 0).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep time);
use IrTest;
use IrAudit;

my $t = IrTest->new;

$t->start_redis;
$t->client_cert($_) for qw(alice bob);

my $r = $t->redis;

# two days ago, an agency read the person's data

my $now = int(time * 1000);
my $today = $now - $now % 86400000;
my $then = $today - 2 * 86400000 + 36000000;
my $old = chain('gw-old', 1, $then - 60000);

xadd($r, 'ir:audit',
     ["$then-0", decision($old, $then, user => 'carol', org => 'agency',
                          contract => 'C-9', purpose => 'TAX-1',
                          subject => '010190-12345',
                          uri => '/persons/010190-12345')],
     [($then + 1000) . '-0',
      decision($old, $then + 1000, user => 'carol', org => 'agency',
               subject => '030303-33333', uri => '/persons/030303-33333')]);

$t->org('bank', name => 'Bank', contract => 'C-1');
$t->org('insurer', name => 'Insurer', contract => 'C-2');
$r->sadd('ir:org:bank:purposes', 'AML');
$r->sadd('ir:org:insurer:purposes', 'LR-7');
$t->user('alice', ips => ['10.0.0.0/8'], org => 'bank');
$t->user('bob', ips => ['10.0.0.0/8'], org => 'insurer');

$t->write_config(<<'CONF');
    ir_access_redis %%REDIS%%;
    ir_access_audit stream=ir:audit;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        ir_access on;

        location ~ ^/persons/(?<code>[0-9-]+)$ {
            ir_access_purpose $http_x_ir_purpose;
            ir_access_audit stream=ir:audit subject=$code;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }
    }
CONF

$t->start_nginx;

sub read_person {
    my ($user, $code, $purpose) = @_;
    my $before = $r->xlen('ir:audit');
    my $res = $t->get("/persons/$code", cert => $user, ip => '10.0.0.1',
                      headers => ["X-IR-Purpose: $purpose"]);
    for (1 .. 100) {
        last if $r->xlen('ir:audit') > $before;
        sleep 0.02;
    }
    return $res;
}

$t->allowed(read_person('alice', '010190-12345', 'AML'), 'alice reads');
$t->allowed(read_person('bob', '020202-22222', 'LR-7'), 'bob reads another');
$t->denied(read_person('alice', '010190-12345', 'LR-7'), 403,
           'purpose_not_allowed', 'alice with another\'s purpose');

my $dir = $t->dir . '/archive';
my ($status, $signal, $out, $err) =
    run_tool($t, {}, 'audit', 'archive', '--dir', $dir, '--once');
is($status, 0, 'archived') or diag($err);
is($r->xlen('ir:audit'), 0, 'the stream trimmed');

# after the archive: in the stream only

$t->allowed(read_person('bob', '010190-12345', 'lr-7'), 'bob reads, later');
is($r->xlen('ir:audit'), 1, 'one entry in the stream');

sub query { run_tool($t, {}, 'audit', 'query', '--dir', $dir, @_) }

# the auditor's first question: who read this person's data?

$r->config_set('slowlog-log-slower-than', 0);
$r->config_set('slowlog-max-len', 10000);
$r->slowlog('RESET');

($status, $signal, $out, $err) = query('--subject', '010190-12345');
is($status, 0, 'who read 010190-12345?') or diag($err);

my @rows = split /\n/, $out;
my $summary = pop @rows;
my $head = shift @rows;

like($head, qr/^TIME +USER +ORG +CONTRACT +PURPOSE +SUBJECT +IP +DECISION +URI$/,
     'a table');
is(scalar @rows, 4, 'four reads, from the archive and the stream');
like($rows[0], qr/^\Q${\ iso($then)}\E +carol +agency +C-9 +TAX-1 +010190-12345 +- +allow +\/persons\/010190-12345$/,
     'two days ago, from the archive\'s closed day');
like($rows[1], qr/^\S+Z +alice +bank +C-1 +AML +010190-12345 +10\.0\.0\.1 +allow +\/persons\/010190-12345$/,
     'alice, allowed, from today\'s file');
like($rows[2], qr/ alice +bank +C-1 +LR-7 .* deny purpose_not_allowed /,
     'alice, denied, with the reason');
like($rows[3], qr/ bob +insurer +C-2 +lr-7 .* allow /, 'bob, from the stream');
like($summary, qr/^4 entries matched, of 6 read \(2 archive files, 1 entries of the stream "ir:audit"\), in \d+\.\d{3}s$/,
     'what was read, and how long it took');

# and Redis was read a page at a time

my @commands = map { join ' ', @{ $_->[3] } } @{ $r->slowlog('GET', 10000) };
my @ranges = grep { /^XRANGE/i } @commands;
ok(@ranges >= 1, 'the stream read with XRANGE');
is(scalar(grep { !/ COUNT \d+$/ } @ranges), 0, 'always with COUNT')
    or diag(join "\n", @ranges);
is(scalar(grep { /^(KEYS|XREAD|SMEMBERS|HGETALL)\b/i } @commands), 0,
   'and nothing unbounded');
$r->config_set('slowlog-log-slower-than', 10000);

# as JSON lines: the entries as the stream had them

($status, $signal, $out) = query('--subject', '010190-12345', '--json');
my @json = split /\n/, $out;
is(scalar @json, 4, 'four JSON lines');
my %first = @{ parse_line($json[0]) };
is($first{user}, 'carol', 'in order');
is($first{_id}, "$then-0", 'with the stream id');
is(digest([ @{ parse_line($json[0]) }[2 .. 2 * keys(%first) - 1] ]),
   digest(decision(chain('gw-old', 1, $then - 60000), $then, user => 'carol',
                   org => 'agency', contract => 'C-9', purpose => 'TAX-1',
                   subject => '010190-12345',
                   uri => '/persons/010190-12345')),
   'field for field');

# the other questions

sub users {
    my @u = map { (split ' ', $_)[1] } grep { /Z / } split /\n/, $_[0];
    return join ' ', @u;
}

($status, $signal, $out) = query('--user', 'alice');
is(users($out), 'alice alice', 'by user');
($status, $signal, $out) = query('--org', 'insurer');
is(users($out), 'bob bob', 'by organisation');
($status, $signal, $out) = query('--purpose', 'LR-7');
is(users($out), 'bob alice bob', 'by purpose, in any case');
($status, $signal, $out) = query('--decision', 'deny');
is(users($out), 'alice', 'the denials');
like($out, qr/deny purpose_not_allowed/, 'with their reason');
($status, $signal, $out) = query('--since', day_of($now));
is(users($out), 'alice bob alice bob', 'since today');
($status, $signal, $out) = query('--until', day_of($then));
is(users($out), 'carol carol', 'until two days ago, that day included');
($status, $signal, $out) = query('--since', iso($then + 500),
                                 '--until', iso($then + 1500));
like($out, qr/030303-33333/, 'a time range');
is(users($out), 'carol', 'to the millisecond');
($status, $signal, $out) = query('--subject', '010190-12345',
                                 '--archive-only');
is(users($out), 'carol alice alice', 'the archive alone');
($status, $signal, $out) = query('--subject', '999999-99999');
like($out, qr/^0 entries matched/, 'no one read this person\'s data');

($status, $signal, $out, $err) = query('--since', 'yesterday');
is($status, 2, 'a time it cannot read');
like($err, qr/--since wants YYYY-MM-DD/, 'says what it wants');

$t->stop_nginx;
$t->check_log;

done_testing;
