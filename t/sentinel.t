#!/usr/bin/perl

# Redis behind Sentinel: "ir_access_redis SENTINELS sentinel=NAME" asks the
# Sentinels where the master is; after a failover (the old master still
# up, then stopped) the workers find the new master without a reload,
# writes (the failure counter) reach it and the keyspace subscription
# follows it; with no Sentinel and no master left, requests get a quick
# 503.  Configuration mistakes stop "nginx -t".

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Redis;
use Time::HiRes qw(time);
use IrTest;

my $t = IrTest->new;

# the master is the harness's Redis; a replica and a Sentinel beside it

$t->start_redis(notify => 'KA');
my $master_port = $t->redis_port;

my $replica = $t->start_redis(name => 'replica', notify => 'KA',
                              replicaof => $master_port);

ok($t->wait_for(sub { $replica->info('replication')->{master_link_status}
                  eq 'up' }, 10), 'the replica follows the master');

my $sentinel = $t->start_redis(name => 'sentinel', sentinel => 1, config => [
    "sentinel monitor reg 127.0.0.1 $master_port 1",
    'sentinel down-after-milliseconds reg 1000',
    'sentinel failover-timeout reg 10000',
]);

my %port = (replica => $t->redis_port('replica'),
            sentinel => $t->redis_port('sentinel'));

$t->client_cert($_) for qw(alice bob);
$t->org('bank', name => 'Bank', contract => 'C-1');
$t->user('bob', ips => ['10.0.0.0/8']);
$t->user('alice', ips => ['10.0.0.0/8'],
         password => (split /[:\n]/, `htpasswd -nbs alice secret`)[1]);

$t->write_config(<<"CONF");
    ir_access_redis 127.0.0.1:1,127.0.0.1:$port{sentinel} sentinel=reg;
    ir_access_redis_timeout 300ms;
    ir_access_cache zone=ir:1m ttl=1h stale=1s;
    ir_access_redis_notify on;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%

        location / {
            ir_access on;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /pw/ {
            ir_access on;
            ir_access_password on;
            ir_access_lockout 5;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }
    }
CONF

# the first Sentinel is never there
$t->expect_error(qr/ir_access: could not connect to Redis at "127\.0\.0\.1:1": Connection refused/,
                 qr/ir_access: Sentinel at "127\.0\.0\.1:1" did not answer/);

$t->start_nginx;

my %alice = (cert => 'alice', ip => '10.0.0.1');

sub status_within {
    my ($want, $seconds, %o) = @_;
    my $res;
    $t->wait_for(sub { $res = $t->get($o{path} // '/x', %alice, %o);
                   $res->{status} == $want }, $seconds);
    return $res;
}

my $res = status_within(200, 5);
is($res->{status}, 200, 'allowed through the master the Sentinel names');
like($t->error_log, qr/Sentinel at "127\.0\.0\.1:1" did not answer/,
     'a Sentinel that is down is logged');
like($t->error_log,
     qr/Sentinel at "127\.0\.0\.1:$port{sentinel}" names 127\.0\.0\.1:$master_port as master "reg"/,
     'and the next one is asked');

# a failover: the replica is promoted, the old master made its replica

ok($t->wait_for(sub { @{ $sentinel->sentinel('replicas', 'reg') } }, 15),
   'the Sentinel knows the replica');

# a role change closes the clients' connections, and then the old master
# goes away
$t->expect_redis_down;
$t->expect_redis_down('replica');
$t->expect_error(qr/ir_access: Redis at "127\.0\.0\.1:\d+" is a replica now; /);

$sentinel->sentinel('failover', 'reg');

ok($t->wait_for(sub { $sentinel->sentinel('get-master-addr-by-name', 'reg')->[1]
                  == $port{replica} }, 15), 'the Sentinel fails over');

# the old master is still up, and writable until the Sentinel demotes it:
# the workers follow the Sentinel within about a second

ok($t->wait_for(sub { $t->error_log
                  =~ /names 127\.0\.0\.1:$port{replica} as master "reg"/ },
            10), 'the workers learn of the new master');

# a role change closes clients' connections: a new one
$replica = Redis->new(server => "127.0.0.1:$port{replica}");
$replica->del('ir:user:alice:fails');

$t->denied($t->get('/pw/x', %alice, user => 'alice:wrong'), 401,
           'bad_password', 'a wrong password after the failover');
is($replica->get('ir:user:alice:fails'), 1,
   'is counted on the new master');

$res = status_within(200, 5);
is($res->{status}, 200, 'allowed after the failover, without a reload');

# the subscription followed the master: an admin's edit there is felt

$t->allowed($t->get('/cached', %alice), 'alice in the cache');
$replica->hset('ir:user:alice', 'status', 'disabled');
$res = status_within(403, 5, path => '/cached');
$t->denied($res, 403, 'user_disabled',
           'an edit on the new master drops the cached record (ttl 1h)');
$replica->hset('ir:user:alice', 'status', 'active');

# the old master goes away for good

$t->stop_redis;

$res = status_within(200, 5, path => '/y');
is($res->{status}, 200, 'allowed with the old master gone');

$t->allowed($t->get('/pw/x', %alice, user => 'alice:secret'),
            'and a password checked');

# no Sentinel and no master: a quick, clear refusal

$t->expect_redis_down('sentinel');
$t->expect_error(qr/ir_access: Sentinel at "127\.0\.0\.1:$port{sentinel}" did not answer/);

$t->stop_redis('sentinel');
$t->stop_redis('replica');

my %bob = (cert => 'bob', ip => '10.0.0.2');

$res = $t->get('/z', %bob);
$t->denied($res, 503, 'store_unavailable',
           'nothing left: a user not in the cache is store_unavailable');

my $start = time;
$res = $t->get('/z', %bob);
is($res->{status}, 503, 'still refused');
cmp_ok(time - $start, '<', 3, 'without hanging');

$t->stop_nginx;
$t->check_log;

# configuration mistakes

for my $bad (['unix:/tmp/s.sock sentinel=reg', qr/Sentinels are reached over TCP/],
             ['127.0.0.1:26379 sentinel=', qr/no master name/],
             [', sentinel=reg', qr/no Sentinel address/])
{
    $t->write_config(<<"CONF");
    ir_access_redis $bad->[0];
    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        location / { ir_access on; }
    }
CONF
    my ($ok, $out) = $t->test_config;
    ok(!$ok, "nginx -t refuses \"$bad->[0]\"");
    like($out, $bad->[1], 'and says why');
}

done_testing;
