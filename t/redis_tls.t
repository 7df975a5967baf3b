#!/usr/bin/perl

# Redis over TLS: "ir_access_redis ... tls [tls_ca=] [tls_cert= tls_key=]
# [tls_name=]", with hiredis's own SSL support where the installed
# hiredis has it (hiredis_ssl, Debian 13's hiredis 1.2).  A Redis with a
# TLS port and a certificate made here: a guarded request is decided
# through it; a CA that did not sign the server's certificate, or a name
# it does not carry, gives 503 store_unavailable with a log line naming
# the TLS failure; where Redis requires client certificates, none is
# refused and "tls_cert=" with "tls_key=" is let in; a server that never
# answers the handshake costs a request the timeout and blocks nothing;
# Sentinel and master both over TLS.  Where hiredis has no TLS (Debian 12's
# 0.14), "nginx -t" refuses "tls" with a message that says so.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use IO::Socket::INET;
use Redis;
use Time::HiRes qw(sleep time);
use IrTest;

my $t = IrTest->new;
my $d = $t->dir;

$t->server_cert;
$t->client_cert('alice');
$t->client_cert('gate');                # the module's, for mutual TLS
$t->ca('other');                        # a CA that signed nothing here

my $server = IrTest->guarded_server;

sub config_test {
    my ($redis) = @_;
    $t->write_config("ir_access_redis $redis;\n$server");
    return $t->test_config;
}

# does this build have TLS?  It must, exactly where hiredis has hiredis_ssl

my $hiredis_ssl = -f '/usr/include/hiredis/hiredis_ssl.h';
my ($ok, $out) = config_test("127.0.0.1:6380 tls tls_ca=$d/ca.crt");

unless ($hiredis_ssl) {
    ok(!$ok, 'without hiredis_ssl: nginx -t refuses "tls"');
    like($out, qr/\[emerg\].*this build of the module has no Redis TLS support \(hiredis without hiredis_ssl\)/,
         'and says why');
    done_testing;
    exit;
}

ok($ok, 'with hiredis_ssl: nginx -t takes "tls"') or diag($out);

# Redis with a plain port for the test and a TLS port for the module

my $tls_port = IrTest::free_port();

my $redis = eval {
    $t->start_redis(args => ['--tls-port', $tls_port,
                             '--tls-cert-file', "$d/server.crt",
                             '--tls-key-file', "$d/server.key",
                             '--tls-ca-cert-file', "$d/ca.crt",
                             '--tls-auth-clients', 'no']);
};

unless ($redis) {
    my $log = do { local (@ARGV, $/) = "$d/redis.log"; <> } // '';
    plan skip_all => "this redis-server does not speak TLS: "
                     . (($log =~ /(.*TLS.*)/) ? $1 : $@);
}

$t->org('bank', name => 'Bank');
$t->user('alice', ips => ['10.0.0.0/8']);

my %alice = (cert => 'alice', ip => '10.0.0.1');
my $addr = "127.0.0.1:$tls_port";

# what the handshakes made to fail below, and the silent server, log
$t->expect_error(
    qr/ ir_access: TLS handshake with Redis at "\Q$addr\E" failed: its certificate did not verify: [^(]+ \(SSL: /,
    qr/ ir_access: TLS (connection|handshake) with Redis at "\Q$addr\E" failed \(SSL: /,
    qr/ ir_access: could not connect to Redis at "\Q$addr\E": Connection reset by peer/,
    qr/ ir_access: Redis did not answer for user "alice" within 3000ms/,
    qr/ ir_access: Redis at "127\.0\.0\.1:\d+" did not answer within 3000ms, reconnecting/);

sub start_with {
    my ($redis_conf, $timeout) = @_;
    $t->stop_nginx;
    $t->write_config("ir_access_redis $redis_conf;\n"
                     . "ir_access_redis_timeout " . ($timeout // '300ms')
                     . ";\n$server");
    $t->start_nginx;
}

# the wait for a log line that a worker writes: at its start, when it
# connects at once, or after the reply; the mark is taken before nginx
# starts

sub log_within {
    my ($mark, $re) = @_;
    my $log = '';
    for (1 .. 50) {
        $log = $t->log_since($mark);
        return $log if $log =~ $re;
        sleep 0.1;
    }
    return $log;
}

start_with("$addr tls tls_ca=$d/ca.crt");
$t->allowed($t->get('/x', %alice), 'Redis over TLS, its CA named');

$t->allowed($t->get('/y', %alice), 'a second request on the connection');

# another CA: the server's certificate does not verify

my $mark = $t->log_mark;
start_with("$addr tls tls_ca=$d/other.crt");
$t->denied($t->get('/x', %alice), 503, 'store_unavailable',
           'a CA that did not sign the server\'s certificate');
like(log_within($mark, qr/\[error\].*TLS handshake/),
     qr/\[error\].*ir_access: TLS handshake with Redis at "\Q$addr\E" failed: its certificate did not verify: .*\(SSL: .*certificate verify failed\)/,
     'the TLS failure is logged, with OpenSSL\'s reason')
    or diag($t->log_since($mark) =~ /^(.*\[error\].*)$/mg);

# the certificate must name the server

$mark = $t->log_mark;
start_with("$addr tls tls_ca=$d/ca.crt tls_name=redis.example");
$t->denied($t->get('/x', %alice), 503, 'store_unavailable',
           'a certificate that does not carry "tls_name="');
like(log_within($mark, qr/\[error\].*TLS handshake/),
     qr/\[error\].*TLS handshake with Redis at "\Q$addr\E" failed: its certificate did not verify: hostname mismatch/,
     'logged as a name mismatch')
    or diag($t->log_since($mark) =~ /^(.*\[error\].*)$/mg);

start_with("$addr tls tls_ca=$d/ca.crt tls_name=localhost");
$t->allowed($t->get('/x', %alice),
            'a name the certificate carries, "tls_name=localhost"');

# mutual TLS: Redis requires a client certificate.  Without one, TLS 1.3
# ends the handshake on the client's side before the server's alert
# ("certificate required") comes, or the server's reset; where the reset
# comes first, the connection is what failed

$redis->config('set', 'tls-auth-clients', 'yes');

$mark = $t->log_mark;
start_with("$addr tls tls_ca=$d/ca.crt");
$t->denied($t->get('/x', %alice), 503, 'store_unavailable',
           'no client certificate where Redis requires one');
like(log_within($mark, qr/\[error\].*(TLS|reset by peer)/),
     qr/\[error\].*(TLS (connection|handshake) with Redis at "\Q$addr\E" failed \(SSL: |could not connect to Redis at "\Q$addr\E": Connection reset by peer)/,
     'logged as a TLS failure, in OpenSSL\'s words, or as the reset')
    or diag($t->log_since($mark) =~ /^(.*\[error\].*)$/mg);

start_with("$addr tls tls_ca=$d/ca.crt tls_cert=$d/gate.crt "
           . "tls_key=$d/gate.key");
$t->allowed($t->get('/x', %alice),
            'the module\'s certificate, "tls_cert=" and "tls_key="');

# a server that takes the connection and never answers the handshake: the
# request waits the timeout, and the worker serves others meanwhile

my $silent = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1',
                                   LocalPort => 0, ReuseAddr => 1)
    or die "listen: $!";
my $silent_addr = '127.0.0.1:' . $silent->sockport;

start_with("$silent_addr tls tls_ca=$d/ca.crt", '3s');

my $h = $t->start_get('/x', %alice);
sleep 0.2;

my $open = $t->get('/open/x');
is($open->{status}, 200, 'an unguarded request while a handshake hangs');
ok($t->running($h), 'answered while the guarded one still waits: the '
                    . 'handshake blocks nothing');

my $res = $t->collect($h);
is($res->{status}, 503, 'the guarded request: 503 after the timeout');
like($t->error_log,
     qr/Redis at "\Q$silent_addr\E" did not answer within 3000ms/,
     'the silent server is dropped after the timeout');
close $silent;

$t->stop_nginx;

# Sentinel and master over TLS, with the same certificates

my $sentinel_port = IrTest::free_port();

open my $sc, '>', "$d/sentinel.conf" or die;
print $sc <<"EOF";
port 0
tls-port $sentinel_port
tls-cert-file $d/server.crt
tls-key-file $d/server.key
tls-ca-cert-file $d/ca.crt
tls-replication yes
bind 127.0.0.1
dir $d
logfile $d/sentinel.log
sentinel monitor reg 127.0.0.1 $tls_port 1
sentinel down-after-milliseconds reg 5000
EOF
close $sc;

my $sentinel_pid = fork // die "fork: $!";
if ($sentinel_pid == 0) {
    exec('redis-server', "$d/sentinel.conf", '--sentinel')
        or die "redis-server: $!";
}

END {
    if ($sentinel_pid) {
        kill 'TERM', $sentinel_pid;
        waitpid $sentinel_pid, 0;
    }
}

# the Sentinel may not listen yet when the workers first ask it
$t->expect_error(qr/ ir_access: TLS handshake with Redis at "127\.0\.0\.1:$sentinel_port" failed: SSL_connect failed: Connection refused/);

start_with("127.0.0.1:$sentinel_port sentinel=reg tls tls_ca=$d/ca.crt "
           . "tls_cert=$d/gate.crt tls_key=$d/gate.key");

is($t->poll_status('/x', 200, %alice), 200,
   'Sentinel over TLS names the master, reached over TLS');
like($t->error_log,
     qr/Sentinel at "127\.0\.0\.1:$sentinel_port" names 127\.0\.0\.1:$tls_port as master "reg"/,
     'the Sentinel was asked over TLS');

$t->stop_nginx;
$t->check_log;

# mistakes stop nginx -t

for my $bad (
    ["$addr tls tls_cert=$d/gate.crt", qr/"tls_cert=" and "tls_key=" go together/],
    ["$addr tls tls_ca=$d/missing.crt", qr/cannot load the Redis CA ".*missing\.crt" of "tls_ca="/],
    ["$addr tls_ca=$d/ca.crt", qr/"tls_ca=", "tls_cert=", "tls_key=" and "tls_name=" require "tls"/],
    ["unix:$d/redis.sock tls", qr/"tls" is for TCP addresses/],
    ["$addr tls tls_cert=$d/gate.crt tls_key=$d/alice.key", qr/cannot load the Redis client key ".*alice\.key" of "tls_key=".*key values mismatch/],
    ["$addr tls tls_name=", qr/no name in Redis "tls_name="/])
{
    ($ok, $out) = config_test($bad->[0]);
    ok(!$ok, "nginx -t refuses \"$bad->[0]\"");
    like($out, $bad->[1], 'and says why');
}

done_testing;
