#!/usr/bin/perl

# HTTP/2: streams share one TLS connection, and so the identity worked out
# for it; each stream is still decided, and a stream's pool being short
# does not matter.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use IrTest;

my $t = IrTest->new;

$t->start_redis;
$t->client_cert($_) for qw(alice bob);

my $server = IrTest->guarded_server(
    'add_header X-Proto $server_protocol; add_header X-User $ir_access_user;');
$server =~ s/ ssl;/ ssl http2;/;

$t->write_config("ir_access_redis %%REDIS%%;\n"
                 . "ir_access_cache zone=ir:1m;\n" . $server);
$t->start_nginx;

$t->org('bank', name => 'Bank');
$t->user('alice', ips => ['10.0.0.0/8']);

my $r = $t->get('/x', cert => 'alice', ip => '10.0.0.1', http2 => 1);
$t->allowed($r, 'HTTP/2 with a certificate');
is($r->{headers}{'x-proto'}, 'HTTP/2.0', 'over HTTP/2');
is($r->{headers}{'x-user'}, 'alice', 'the identity from the certificate');

$t->denied($t->get('/x', ip => '10.0.0.1', http2 => 1),
           403, 'cert_required', 'HTTP/2 without a certificate');
$t->denied($t->get('/x', cert => 'alice', ip => '192.0.2.1', http2 => 1),
           403, 'ip_not_allowed', 'HTTP/2 from outside the allowlist');
$t->denied($t->get('/x', cert => 'bob', ip => '10.0.0.1', http2 => 1),
           403, 'unknown_user', 'HTTP/2, another certificate');

# many streams on one connection, each decided
my $d = $t->dir;
my $port = $t->port;
my @urls = map { "-o /dev/null https://127.0.0.1:$port/s$_" } 1 .. 20;
my $out = `curl -s --http2 --cacert $d/ca.crt --cert $d/alice.crt --key $d/alice.key -H 'X-Real-IP: 10.0.0.1' -w '%{http_code} %{num_connects}\\n' @urls`;
my @codes = map { (split ' ')[0] } split /\n/, $out;
my $connects = 0;
$connects += (split ' ')[1] for split /\n/, $out;
is(scalar(grep { $_ eq '200' } @codes), 20,
   'twenty requests, all decided and allowed');
is($connects, 1, 'on one connection');

$t->stop_nginx;
$t->check_log;

done_testing;
