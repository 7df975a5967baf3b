#!/usr/bin/perl

# HTTP/3: with "listen ... quic" beside "ir_access on", each request
# stream is decided exactly as over TCP.  The identity is the QUIC
# connection's verified client certificate, examined once for all its
# streams; the allowlist sees the client's address (through the realip
# module here, as the other tests simulate addresses); a wrong password is
# counted and locks; every stream has its audit entry; and a certificate
# verified by another server's configuration (no SNI) counts for nothing,
# as over TCP.  Runs where nginx has the http_v3 module and curl speaks
# HTTP/3 (Debian 13); skipped elsewhere, with the reason.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep);
use IrTest;

my $nginx = $ENV{IR_NGINX} || '/usr/sbin/nginx';

plan skip_all => 'nginx has no HTTP/3 (built without --with-http_v3_module)'
    unless `$nginx -V 2>&1` =~ /--with-http_v3_module/;
plan skip_all => 'curl does not speak HTTP/3 (no HTTP3 in curl -V)'
    unless `curl -V 2>&1` =~ /^Features:.*\bHTTP3\b/m;

my $t = IrTest->new;
my $d = $t->dir;

my $r = $t->start_redis;
$t->client_cert('alice');                         # by the office's CA
$t->client_cert('bob', ca => 'partner');          # by the partner's CA

$t->write_config(<<"CONF");
    ir_access_redis %%REDIS%%;
    ir_access_audit stream=ir:audit;

    # the default server: the office's CA, over TCP and QUIC alike
    server {
        listen 127.0.0.1:%%PORT%% ssl default_server;
        listen 127.0.0.1:%%PORT%% quic default_server;
        server_name office;
%%TLS%%
        add_header X-Proto \$server_protocol always;
        add_header X-User \$ir_access_user always;

        location / {
            ir_access on;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /pw/ {
            ir_access on;
            ir_access_password on;
            ir_access_lockout 3;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }
    }

    # another server on the same listeners: the partner's CA, no pins
    server {
        listen 127.0.0.1:%%PORT%% ssl;
        listen 127.0.0.1:%%PORT%% quic;
        server_name partner;
%%TLS%%
        ssl_client_certificate $d/partner.crt;

        location / {
            ir_access on;
            ir_access_cert_pin off;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }
    }
CONF

# the partner's ssl_client_certificate is the partner's alone
$t->edit_config(sub {
    s{(server_name partner;.*?)ssl_client_certificate\s+\S+;}{$1}s;
});

$t->start_nginx;

# a request that QUIC lost under load (see IrTest::get) is closed by
# nginx's HTTP/3 code with this line, before any module sees it
$t->expect_error(qr/\] \d+#\d+: \*\d+ failed to send stream cancellation while closing request, /);

$t->org('bank', name => 'Bank');
$t->user('alice', ips => ['10.0.0.0/8'],
         password => (split /[:\n]/, `htpasswd -nbs alice secret`)[1]);
$t->user('bob', ips => ['10.0.0.0/8']);

my %alice = (cert => 'alice', ip => '10.0.0.1', http3 => 1);

# one stream at a time

my $res = $t->get('/x', %alice);
$t->allowed($res, 'HTTP/3 with a certificate');
is($res->{headers}{'x-proto'}, 'HTTP/3.0', 'over HTTP/3');
is($res->{headers}{'x-user'}, 'alice', 'the identity from the certificate');

$t->denied($t->get('/x', ip => '10.0.0.1', http3 => 1),
           403, 'cert_required', 'HTTP/3 without a certificate');
$t->denied($t->get('/x', %alice, ip => '192.0.2.1'),
           403, 'ip_not_allowed', 'HTTP/3 from outside the allowlist');
$t->allowed($t->get('/x', %alice, ip => '10.200.0.1'),
            'HTTP/3 from another address inside it');

# many streams on one QUIC connection: each decided and audited, the
# certificate examined once

my $port = $t->port;
my @urls = map { ('-o', '/dev/null', "https://127.0.0.1:$port/s$_") } 1 .. 10;
my @curl = ('curl', '-s', '--http3-only', '--max-time', 10,
            '--cacert', "$d/ca.crt", '--cert', "$d/alice.crt",
            '--key', "$d/alice.key", '-H', 'X-Real-IP: 10.0.0.1',
            '-w', '%{http_code} %{num_connects} %{http_version}\n', @urls);
my ($mark, @out);

# a stream QUIC lost (see IrTest::get) leaves a "000" line: all ten again
for my $try (1 .. 3) {
    $t->audit_reset;
    $mark = $t->log_mark;

    open my $p, '-|', @curl or die "curl: $!";
    @out = <$p>;
    close $p;

    last unless grep { /^000 / } @out;
    diag("HTTP/3 streams: no answer to some (try $try of 3)");
}

is(scalar(grep { /^200 \d+ 3$/ } @out), 10,
   'ten streams over HTTP/3, all decided and allowed');
my $connects = 0;
$connects += (split ' ')[1] for @out;
is($connects, 1, 'on one QUIC connection');

my @examined = $t->log_since($mark)
               =~ /ir_access: the connection's client certificate: CN "alice"/g;
is(scalar @examined, 1, 'the certificate examined once for ten streams');

my @e = $t->wait_audit(10);
is(scalar @e, 10, 'an audit entry per stream');
is(scalar(grep { $_->{user} eq 'alice' && $_->{ip} eq '10.0.0.1'
                 && $_->{decision} eq 'allow' && $_->{status} eq '200' } @e),
   10, 'each with the user, the address, the decision and the status');
is(join(',', sort map { $_->{uri} } @e),
   join(',', sort map { "/s$_" } 1 .. 10), 'and its own URI');

# a wrong password over HTTP/3 is counted, and locks at 3

$r->del('ir:user:alice:fails');

$t->denied($t->get('/pw/x', %alice, user => 'alice:wrong'), 401,
           'bad_password', 'a wrong password over HTTP/3');
is($r->get('ir:user:alice:fails'), 1, 'is counted');
$t->allowed($t->get('/pw/x', %alice, user => 'alice:secret'),
            'the right one');

# the reset is sent without waiting for it: it may land after the answer
my $fails;
for (1 .. 50) {
    $fails = $r->get('ir:user:alice:fails');
    last unless defined $fails;
    sleep 0.05;
}
is($fails, undef, 'resets the count');

$t->expect_error(qr/ir_access: user "alice" locked after 3 failed logins; /);
$t->denied($t->get('/pw/x', %alice, user => 'alice:wrong'), 401,
           'bad_password', "failure $_ of 3") for 1 .. 3;
is($r->hget('ir:user:alice', 'status'), 'locked', 'locked at 3');
$t->denied($t->get('/pw/x', %alice, user => 'alice:secret'), 403,
           'account_locked', 'locked: even the right password');
$r->hset('ir:user:alice', 'status', 'active');

# no SNI (curl sends none to an IP address): verified by the default
# server's configuration, then sent to the partner's by Host

$mark = $t->log_mark;
$t->denied($t->get('/x', %alice, headers => ['Host: partner']),
           403, 'cert_required',
           'a certificate the partner\'s CA never verified, over QUIC');
like($t->log_since($mark),
     qr/client certificate was verified by another server's configuration/,
     'logged with why');

# with SNI the partner's server verifies its own clients over QUIC too

my $out = `curl -s -k --http3-only -o /dev/null -w '%{http_code}' --cacert $d/ca.crt --cert $d/bob.crt --key $d/bob.key -H 'X-Real-IP: 10.0.0.1' --resolve partner:$port:127.0.0.1 https://partner:$port/x`;
is($out, '200', 'the partner\'s client, with SNI, at the partner\'s server');

# the same decisions over TCP, for comparison

$t->allowed($t->get('/x', cert => 'alice', ip => '10.0.0.1'),
            'over TCP too');

$t->stop_nginx;
$t->check_log;

done_testing;
