#!/usr/bin/perl

# HTTP/2: streams share one TLS connection, and so the identity worked out
# for it; each stream is still decided on its own (its own address, its
# own audit entry and request id, its own log line when denied), allowed
# and denied streams side by side on one connection; and HTTP/2 is
# configured as the nginx under test wants it.

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
$server = IrTest->http2($server);

$t->write_config("ir_access_redis %%REDIS%%;\n"
                 . "ir_access_cache zone=ir:1m;\n"
                 . "ir_access_audit stream=ir:audit;\n" . $server);
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

# twenty streams on one connection, every fifth from an address outside
# the allowlist: each decided by itself

$t->audit_reset;
my $mark = $t->log_mark;

my %outside = map { $_ => 1 } 5, 10, 15, 20;
my @streams = map { [ "/s$_", ip => $outside{$_} ? '192.0.2.1' : '10.0.0.1' ] }
              1 .. 20;

my ($res, $connects) = $t->parallel(\@streams, cert => 'alice', http2 => 1);
is($connects, 1, 'twenty streams on one connection');

for my $i (1 .. 20) {
    if ($outside{$i}) {
        $t->denied($res->[$i - 1], 403, 'ip_not_allowed',
                   "stream $i, from outside");
    } else {
        $t->allowed($res->[$i - 1], "stream $i");
        like($res->[$i - 1]{body}, qr/"uri":"\/s$i"/, "stream $i: its answer");
    }
}

$t->wait_audit(20);
sleep 0.2;
my @e = $t->audit_entries;
is(scalar @e, 20, 'twenty decisions in the trail');

my %by = map { $_->{uri} => $_ } @e;
for my $i (1 .. 20) {
    my $e = $by{"/s$i"} || {};
    is(join(' ', map { $_ // '-' } @$e{qw(decision reason ip status user)}),
       $outside{$i} ? 'deny ip_not_allowed 192.0.2.1 403 alice'
                    : 'allow  10.0.0.1 200 alice',
       "stream $i: its own entry");
}

my %ids = map { $_->{request_id} => 1 } @e;
is(scalar keys %ids, 20, 'each with its own request id');

my @denials = $t->log_since($mark) =~ m{ir_access: denied user "alice" from 192\.0\.2\.1: ip_not_allowed, .*request: "GET /s(\d+) HTTP/2\.0"}g;
is(join(',', sort { $a <=> $b } @denials), '5,10,15,20',
   'each denial logged once, with its stream\'s request');

$t->stop_nginx;
$t->check_log;
unlike($t->error_log, qr/\[warn\].*http2/,
       'HTTP/2 configured as this nginx version wants it');

done_testing;
