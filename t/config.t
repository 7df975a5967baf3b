#!/usr/bin/perl

# The directives as operators write them: mistakes stop "nginx -t" with a
# message that names them; Redis ACL users, passwords and databases work,
# and a refused AUTH lets nothing through.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use IrTest;

my $t = IrTest->new;

$t->start_redis;
$t->client_cert('alice');

sub config_fails {
    my ($http, $message, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    $t->write_config($http);
    my ($ok, $out) = $t->test_config;
    ok(!$ok, "$name: nginx -t fails");
    like($out, $message, "$name: the message says why");
}

my $server = IrTest->guarded_server;

config_fails($server, qr/"ir_access" requires "ir_access_redis"/,
             'ir_access without Redis');
config_fails("ir_access_redis 127.0.0.1:1 db=one;\n$server",
             qr/invalid Redis database "db=one"/, 'a bad db');
config_fails("ir_access_redis 127.0.0.1:1 timeout=3;\n$server",
             qr/invalid parameter "timeout=3"/, 'an unknown parameter');
config_fails("ir_access_redis 127.0.0.1:1;\nir_access_redis 127.0.0.1:2;\n"
             . $server, qr/"ir_access_redis" directive is duplicate/,
             'a second Redis');
config_fails("ir_access_redis 127.0.0.1:1 user=gate;\n$server",
             qr/"user=" requires "password="/, 'a user without password');
config_fails("ir_access_redis unix:;\n$server",
             qr/no path in Redis address/, 'an empty unix path');
config_fails("ir_access_redis 127.0.0.1:99999;\n$server",
             qr/invalid port in Redis address/, 'a bad port');
config_fails("ir_access_redis 127.0.0.1:1;\nir_access_redis_timeout soon;\n"
             . $server, qr/"ir_access_redis_timeout" directive invalid value/,
             'a bad timeout');

# an ACL user in database 3, with a custom prefix

my $r = $t->redis;
$r->acl('SETUSER', 'gate', 'on', '>s3cret', '~*', '&*', '+@all');
$r->select(3);

$r->hset('pmlp:org:bank', 'name', 'Test Bank');
$r->hset('pmlp:user:alice', 'org', 'bank', 'cert', $t->fingerprint('alice'));
$r->sadd('pmlp:user:alice:ips', '10.0.0.1');

my $guarded = "ir_access_redis_prefix pmlp:;\n" . IrTest->guarded_server;

$t->write_config("ir_access_redis %%REDIS%% db=3 user=gate password=s3cret;\n"
                 . $guarded);
$t->start_nginx;

$t->allowed($t->get('/', cert => 'alice', ip => '10.0.0.1'),
            'ACL user, database 3, prefix pmlp:');

# a wrong password: the default user could read the data, but nothing
# that was pipelined behind the refused AUTH may decide

$t->expect_error(qr/ir_access: Redis at "\Q${\ $t->redis_addr }\E" refused the connection's set-up: WRONGPASS /);
$t->write_config("ir_access_redis %%REDIS%% db=3 user=gate password=wrong;\n"
                 . $guarded);
my $mark = $t->log_mark;
$t->reload_nginx;
sleep 1;

$t->denied($t->get('/', cert => 'alice', ip => '10.0.0.1'),
           503, 'store_unavailable', 'a refused AUTH');
like($t->log_since($mark), qr/refused the connection's set-up: WRONGPASS/,
     'the refused AUTH is logged with what to check');

# a database that does not exist

$t->expect_error(qr/ir_access: Redis at "\Q${\ $t->redis_addr }\E" refused the connection's set-up: ERR DB index is out of range; /);
$t->write_config("ir_access_redis %%REDIS%% db=99;\n" . $guarded);
$mark = $t->log_mark;
$t->reload_nginx;
sleep 1;

$t->denied($t->get('/', cert => 'alice', ip => '10.0.0.1'),
           503, 'store_unavailable', 'a database out of range');
like($t->log_since($mark), qr/DB index is out of range/,
     'the refused SELECT is logged');

$t->stop_nginx;
$t->check_log;

done_testing;
