#!/usr/bin/perl

# A client certificate counts only when it was verified with the trust of
# the server the request is for.  A client that sends no SNI (curl sends
# none to an IP address) is verified by the default server's
# configuration, whose CA may be another's: a request it then sends to
# another server by its Host header is denied, pinned or not.  And
# "nginx -t" warns where "ir_access" is on in a server that verifies no
# client certificates.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use IrTest;

my $t = IrTest->new;

$t->start_redis;
$t->client_cert('alice');                         # by the default CA
$t->client_cert('bob', ca => 'partner');          # by the partner's CA

my $d = $t->dir;

$t->write_config(<<"CONF");
    ir_access_redis %%REDIS%%;

    # the default server: the office's own CA
    server {
        listen 127.0.0.1:%%PORT%% ssl default_server;
        server_name office;
%%TLS%%
        location / {
            ir_access on;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }
    }

    # another server on the same port: the partner's CA, no pins
    server {
        listen 127.0.0.1:%%PORT%% ssl;
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

# the second server's ssl_client_certificate is the partner's alone
$t->edit_config(sub {
    s{(server_name partner;.*?)ssl_client_certificate\s+\S+;}{$1}s;
});

$t->start_nginx;

$t->org('bank', name => 'Bank');
$t->user('alice', ips => ['10.0.0.0/8']);
$t->user('bob', ips => ['10.0.0.0/8']);

$t->allowed($t->get('/x', cert => 'alice', ip => '10.0.0.1'),
            'the office\'s client at the office\'s server');

# no SNI: verified by the default server, then sent to the partner's

my $mark = $t->log_mark;
$t->denied($t->get('/x', cert => 'alice', ip => '10.0.0.1',
                   headers => ['Host: partner']),
           403, 'cert_required',
           'a certificate the partner\'s CA never verified, without SNI');
like($t->log_since($mark),
     qr/client certificate was verified by another server's configuration/,
     'logged with why');

# with SNI the partner's server verifies its own clients

my $port = $t->port;
my $out = `curl -s -k -o /dev/null -w '%{http_code}' --cacert $d/ca.crt --cert $d/bob.crt --key $d/bob.key -H 'X-Real-IP: 10.0.0.1' --resolve partner:$port:127.0.0.1 https://partner:$port/x`;
is($out, '200', 'the partner\'s client, with SNI, at the partner\'s server');

$out = `curl -s -k -o /dev/null -w '%{http_code}' --cacert $d/ca.crt --cert $d/alice.crt --key $d/alice.key -H 'X-Real-IP: 10.0.0.1' --resolve partner:$port:127.0.0.1 https://partner:$port/x`;
is($out, '400', 'the office\'s client, with SNI, is refused by nginx there');

$t->stop_nginx;

# nginx -t warns where nothing verifies client certificates

my $plain = IrTest::free_port();

$t->write_config(<<"CONF");
    ir_access_redis %%REDIS%%;

    server {
        listen 127.0.0.1:$plain;

        location / {
            ir_access on;
        }
    }

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        location /guarded/ {
            ir_access on;
        }
    }
CONF

my ($ok, $msg) = $t->test_config;
ok($ok, 'such a configuration is valid');
like($msg, qr/\[warn\].*"ir_access" is on in a server without "ssl_verify_client": every request to \/ is denied/,
     'but nginx -t warns of a server without ssl_verify_client');
unlike($msg, qr/every request to \/guarded\//,
       'and not where the server verifies certificates');

$t->check_log;

done_testing;
