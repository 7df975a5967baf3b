#!/usr/bin/perl

# Two gateways on one Redis share a user's daily quota under load: both
# together let through at least the limit and at most the limit and what
# the two of them serve in a batch interval (100 ms; the bound asserted
# is 250 ms of the measured rate, for timers and replies that run late on
# a busy machine), and Redis counts exactly what they let through.
#
# QUOTA_LIMIT, QUOTA_CLIENTS (per gateway) and QUOTA_REQUESTS (per
# client) make the load; the figures are printed.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use POSIX qw(strftime mktime);
use Test::More;
use Time::HiRes qw(sleep time);
use IrTest;

my $limit = $ENV{QUOTA_LIMIT} // 500;
my $clients = $ENV{QUOTA_CLIENTS} // 3;
my $requests = $ENV{QUOTA_REQUESTS} // 400;

my $t = IrTest->new;

$t->start_redis;
$t->client_cert('alice');

my $conf = <<"CONF";
    ir_access_redis %%REDIS%%;
    ir_access_cache zone=ir:1m ttl=1h;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        location / {
            ir_access on;
            ir_access_quota daily=$limit;
            root %%DIR%%/www;
        }

        location = /metrics {
            ir_access_status;
        }
    }
CONF

my @gw = ($t, $t->instance('b'));

mkdir $t->dir . '/www';
open my $www, '>', $t->dir . '/www/p' or die;
print $www "ok\n";
close $www;

for my $g (@gw) {
    $g->write_config($conf, workers => 2);
    $g->start_nginx;
}

$t->org('bank', name => 'Bank');
$t->user('alice', ips => ['10.0.0.0/8']);

# near midnight the day would end under the test
my @lt = localtime(time);
my $to_midnight = mktime(0, 0, 0, $lt[3] + 1, $lt[4], $lt[5]) - time;
sleep($to_midnight + 2) if $to_midnight < 60;

# one request each first, counted with the others
$_->allowed($_->get('/p', cert => 'alice', ip => '10.0.0.1'),
            'the gateway serves') for @gw;

# each client: one curl, one kept-alive connection, $requests requests
my $d = $t->dir;
my @pids;
my $start = time;

for my $g (0 .. $#gw) {
    for my $c (1 .. $clients) {
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            my $url = 'https://127.0.0.1:' . $gw[$g]->port . '/p';
            open STDOUT, '>', "$d/load-$g-$c" or POSIX::_exit(1);
            exec 'curl', '-s', '--cacert', "$d/ca.crt",
                 '--cert', "$d/alice.crt", '--key', "$d/alice.key",
                 '-H', 'X-Real-IP: 10.0.0.1', '-w', "%{http_code}\\n",
                 map { ('-o', '/dev/null', $url) } 1 .. $requests
                or POSIX::_exit(1);
        }
        push @pids, $pid;
    }
}

waitpid $_, 0 for @pids;
my $elapsed = time - $start;

my @allowed = (1, 1);
my ($total, $other) = (2, 0);

for my $g (0 .. $#gw) {
    for my $c (1 .. $clients) {
        open my $f, '<', "$d/load-$g-$c" or die;
        while (<$f>) {
            chomp;
            $total++;
            if ($_ eq '200') { $allowed[$g]++ }
            elsif ($_ ne '429') { $other++ }
        }
    }
}

my $allowed = $allowed[0] + $allowed[1];

# every count reaches Redis
for my $g (@gw) {
    for (1 .. 100) {
        my %m = $g->metrics;
        last if ($m{ir_access_quota_unflushed} // 1) == 0;
        sleep 0.05;
    }
}

my $counted = $t->redis->get('ir:quota:user:alice:day:'
                             . strftime('%Y%m%d', localtime)) // 0;

my $rate = $total / $elapsed;
my $bound = int($rate * 0.25) + 2 * $clients;

diag(sprintf "%d requests in %.2fs (%.0f/s) on 2 gateways; limit %d; "
             . "allowed %d (%d + %d), overshoot %d (%.1f%%), bound %d",
     $total, $elapsed, $rate, $limit, $allowed, $allowed[0],
     $allowed[1], $allowed - $limit,
     100 * ($allowed - $limit) / $limit, $bound);

is($total, 2 * $clients * $requests + 2, 'every request answered');
ok(!$other, 'with 200 or 429 only');
cmp_ok($allowed, '>=', $limit, 'at least the limit let through');
cmp_ok($allowed - $limit, '<=', $bound,
       'at most the limit and what the gateways serve in one interval');
ok($allowed[0] > 1 && $allowed[1] > 1, 'both gateways served part of it');
is($counted, $allowed, 'Redis counted exactly what was let through');

for my $g (@gw) {
    $g->denied($g->get('/p', cert => 'alice', ip => '10.0.0.1'), 429,
               'daily_quota_exceeded', 'afterwards every gateway refuses');
}

$_->stop_nginx for reverse @gw;
$_->check_log for @gw;

done_testing;
