#!/usr/bin/perl

# Redis gone, slow or paused, clients that leave mid-lookup, and nginx
# reloads with lookups in flight: the worker never waits (it answers an
# unguarded place meanwhile), a request gets a 503 store_unavailable with
# "Retry-After: 2" at worst, everything recovers without a reload, and
# no Redis connection is left behind by reloads or a stop.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep);
use IrTest;

my $t = IrTest->new;

$t->start_redis;
$t->client_cert('alice');

$t->write_config("ir_access_redis %%REDIS%%;\n"
                 . "ir_access_redis_timeout 1500ms;\n"
                 . IrTest->guarded_server);

$t->start_nginx;

sub provision {
    $t->org('bank', name => 'Test Bank');
    $t->user('alice', ips => ['10.0.0.1']);
}


provision();

my %alice = (cert => 'alice', ip => '10.0.0.1');

$t->allowed($t->get('/', %alice), 'Redis up');

# Redis stopped: 503 with Retry-After, the reason logged

$t->expect_redis_down;
$t->stop_redis;

my $mark = $t->log_mark;
my $r = $t->get('/', %alice);
$t->denied($r, 503, 'store_unavailable', 'Redis stopped');
is($r->{headers}{'retry-after'}, '2', 'Retry-After: 2 (seconds)');
like($t->log_since($mark),
     qr/denied user "alice" from 10\.0\.0\.1: store_unavailable/,
     'the outage is logged with the user');

$t->denied($t->get('/', %alice), 503, 'store_unavailable',
           'Redis still stopped');
$t->allowed($t->get('/open'), 'an unguarded location during the outage');

# Redis back on the same port: recovery without a reload

$t->start_redis;
provision();

is($t->poll_status('/', 200, %alice), 200,
   'recovers after Redis restarts, without a reload');

# Redis paused for less than the timeout: the guarded request waits, and
# the same single worker answers others meanwhile

$t->redis->client_pause(1000);

my $slow = $t->start_get('/', %alice);
sleep 0.2;

$t->allowed($t->get('/open'), 'unguarded location while Redis is paused');
ok($t->running($slow), 'the guarded request was still waiting then');

$t->allowed($t->collect($slow), 'the guarded request after the pause');

# Redis paused for longer than the timeout: 503, then recovery

$t->expect_error(qr/\*\d+ ir_access: Redis did not answer for user "alice" within 1500ms, /,
                 qr/ ir_access: Redis at "\Q${\ $t->redis_addr }\E" did not answer within 1500ms, reconnecting/);
$t->redis->client_pause(2500);

$slow = $t->start_get('/', %alice);
sleep 0.2;
$t->allowed($t->get('/open'), 'unguarded location during a long pause');
$t->denied($t->collect($slow), 503, 'store_unavailable',
           'slower than the timeout');

sleep 1;

is($t->poll_status('/', 200, %alice), 200, 'recovers after the pause ends');

# a client that goes away mid-lookup: the late reply is dropped safely

$t->redis->client_pause(800);

for (1 .. 5) {
    $t->get('/', %alice, timeout => 0.3);
}

sleep 1;
$t->allowed($t->get('/', %alice), 'after clients left mid-lookup');

# reload with lookups in flight: none is lost, no connection leaks

$t->allowed($t->get('/', %alice), 'before the reload');
is($t->nginx_clients, 1, 'one Redis connection for one worker');

my @old = $t->worker_pids;

$t->redis->client_pause(1000);

my @inflight = map { $t->start_get('/', %alice) } 1 .. 5;
sleep 0.3;

$t->reload_nginx;

my @results = map { $t->collect($_) } @inflight;
is(scalar(grep { $_->{status} == 200 } @results), 5,
   'every request in flight during the reload is answered');

for (1 .. 100) {
    my %alive = map { $_ => 1 } $t->worker_pids;
    last unless grep { $alive{$_} } @old;
    sleep 0.05;
}

for (1 .. 5) {
    $t->get('/', %alice);
}

for (1 .. 10) {
    $t->reload_nginx;
    sleep 0.1;
    $t->get('/', %alice);
}

# the old workers' connections close as they leave; the request makes
# sure the worker now running has its own (the last request before may
# have been an old worker's)
my $clients = 0;
for (1 .. 100) {
    sleep 0.05;
    $t->allowed($t->get('/', %alice), 'after the reloads') if $_ == 1;
    $clients = $t->nginx_clients;
    last if $clients == 1;
}
is($clients, 1, 'after eleven reloads, still one Redis connection');

$t->stop_nginx;

is($t->nginx_clients, 0, 'nginx stopped: no Redis connection left');

$t->check_log;

done_testing;
