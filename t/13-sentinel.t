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
use POSIX qw(:sys_wait_h);
use Redis;
use Time::HiRes qw(sleep time);
use IrTest;

my $t = IrTest->new;
my $d = $t->dir;

# the master is the harness's Redis; a replica and a Sentinel beside it

$t->start_redis(notify => 'KA');
my $master_port = $t->{redis_port};

my (%pid, %port);

sub spawn {
    my ($name, @args) = @_;
    $port{$name} //= IrTest::free_port();

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        exec('redis-server', @args) or die "redis-server: $!";
    }

    $pid{$name} = $pid;

    for (1 .. 100) {
        my $r = eval { Redis->new(server => "127.0.0.1:$port{$name}",
                                  reconnect => 0, every => 100_000) };
        return $r if $r;
        sleep 0.05;
    }

    die "$name did not start";
}

sub stop {
    my ($name) = @_;
    return unless $pid{$name};
    kill 'TERM', $pid{$name};
    waitpid $pid{$name}, 0;
    delete $pid{$name};
}

END { stop($_) for keys %pid }

sub wait_for {
    my ($what, $seconds) = @_;
    my $start = time;
    while (time - $start < $seconds) {
        my $v = eval { $what->() };
        return $v if $v;
        sleep 0.1;
    }
    return;
}

$port{replica} = IrTest::free_port();
my $replica = spawn('replica', '--port', $port{replica}, '--bind', '127.0.0.1',
                    '--save', '', '--appendonly', 'no', '--dir', $d,
                    '--logfile', "$d/replica.log",
                    '--notify-keyspace-events', 'KA',
                    '--replicaof', '127.0.0.1', $master_port);

ok(wait_for(sub { $replica->info('replication')->{master_link_status}
                  eq 'up' }, 10), 'the replica follows the master');

$port{sentinel} = IrTest::free_port();
open my $sc, '>', "$d/sentinel.conf" or die;
print $sc <<"EOF";
port $port{sentinel}
bind 127.0.0.1
dir $d
logfile $d/sentinel.log
sentinel monitor reg 127.0.0.1 $master_port 1
sentinel down-after-milliseconds reg 1000
sentinel failover-timeout reg 10000
EOF
close $sc;

my $sentinel = spawn('sentinel', "$d/sentinel.conf", '--sentinel');

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

$t->start_nginx;

my %alice = (cert => 'alice', ip => '10.0.0.1');

sub status_within {
    my ($want, $seconds, %o) = @_;
    my $res;
    wait_for(sub { $res = $t->get($o{path} // '/x', %alice, %o);
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

ok(wait_for(sub { @{ $sentinel->sentinel('replicas', 'reg') } }, 15),
   'the Sentinel knows the replica');

$sentinel->sentinel('failover', 'reg');

ok(wait_for(sub { $sentinel->sentinel('get-master-addr-by-name', 'reg')->[1]
                  == $port{replica} }, 15), 'the Sentinel fails over');

# the old master is still up, and writable until the Sentinel demotes it:
# the workers follow the Sentinel within about a second

ok(wait_for(sub { $t->error_log
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

stop('sentinel');
stop('replica');

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
