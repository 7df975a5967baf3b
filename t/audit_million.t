#!/usr/bin/perl

# A million audit entries, as eight writers would chain them over ten
# days, archived a tenth at a time as they come, then queried for one
# person and verified; the times are printed, not asserted.  Without
# IR_LONG=1 twenty thousand stand for the million, so that "make test"
# stays short and light on the machine it shares with the other tests.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time);
use IrTest;
use IrAudit;

my $total = $ENV{IR_LONG} ? 1_000_000 : 20_000;
my $chunk = $total / 10;
my $days = 10;
my $every = $total / 100;       # the person asked about: 100 reads

my $t = IrTest->new;

$t->start_redis;
my $r = $t->redis;

my $now = int(time * 1000);
my $first = $now - $now % 86400000 - ($days + 1) * 86400000;
my $step = int($days * 86400000 / $total);
my @chains = map { chain("gw$_", 1000 + $_, $first - 60000) } 1 .. 8;
my $dir = $t->dir . '/archive';
my %took = (make => 0, archive => 0);

for (my $n = 0; $n < $total; $n += $chunk) {
    my $start = time;
    my @e;

    for my $i ($n .. $n + $chunk - 1) {
        my $ms = $first + $i * $step;
        my $subject = $i % $every == 7 ? '010190-12345'
                                       : sprintf('%06d-%05d', $i % 999983,
                                                 $i % 99991);
        push @e, ["$ms-0", decision($chains[$i % 8], $ms,
                                    host => 'gw' . ($i % 8 + 1),
                                    user => 'user' . ($i % 5000),
                                    org => 'org' . ($i % 50),
                                    contract => 'C-' . ($i % 50),
                                    unit => 'unit', env => 'prod',
                                    ip => '10.1.' . ($i % 250) . '.7',
                                    cert => 'ab' x 32, scope => 'person.basic',
                                    purpose => 'AML', subject => $subject,
                                    uri => "/persons/$subject")];
    }

    xadd_many($t->dir, $t->{redis_port}, 'ir:audit', \@e);
    $took{make} += time - $start;

    $start = time;
    my ($status, $signal, $out, $err) =
        run_tool($t, {}, 'audit', 'archive', '--dir', $dir, '--once');
    $took{archive} += time - $start;

    is($status, 0, 'archived ' . ($n + $chunk)) or diag($err);
}

is($r->xlen('ir:audit'), 0, 'all archived, the stream trimmed');

my @files = glob("$dir/audit-*.jsonl.gz");
is(scalar @files, $days, "$days days closed and compressed");

my $start = time;
my ($status, $signal, $out, $err) =
    run_tool($t, {}, 'audit', 'query', '--dir', $dir, '--subject',
             '010190-12345', '--json');
my $query = time - $start;

is($status, 0, 'queried');
is(scalar(split /\n/, $out), 100, 'the 100 reads of one person found');
like($err, qr/100 entries matched, of $total read/, "of $total entries");

$start = time;
($status, $signal, $out, $err) =
    run_tool($t, {}, 'audit', 'query', '--dir', $dir, '--user', 'user42',
             '--since', day_of($first + 86400000), '--until',
             day_of($first + 2 * 86400000), '--json');
my $range = time - $start;
is($status, 0, 'a user\'s two days queried');

$start = time;
($status, $signal, $out, $err) =
    run_tool($t, {}, 'audit', 'verify', '--dir', $dir);
my $verify = time - $start;

is($status, 0, 'verified') or diag($out);
like($out, qr/verified $total entries of 8 chains/, 'every entry');

diag(sprintf("%d entries: made and added in %.1fs, archived in %.1fs "
             . "(%d entries/s), one person queried in %.1fs, a user's "
             . "two days in %.1fs, verified in %.1fs", $total, $took{make},
             $took{archive}, $total / $took{archive}, $query, $range,
             $verify));

done_testing;
