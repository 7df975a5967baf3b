#!/usr/bin/perl

# The keys kept beside the records are never taken for an administrator's
# edit: "ir-access index" writing the organisations' user sets, and the
# "seen:" hashes the gateway writes, leave no admin_change in the audit
# trail and drop no cached record; an administrator's edit still does.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep);
use IrTest;

my $t = IrTest->new;

$t->start_redis(notify => 'KA');
$t->client_cert('alice');

$t->write_config(<<'CONF');
    ir_access_redis %%REDIS%%;
    ir_access_cache zone=ir:1m ttl=1h;
    ir_access_redis_notify on;
    ir_access_audit stream=ir:audit;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        location / {
            ir_access on;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }
    }
CONF

$t->start_nginx;

my $r = $t->redis;

$t->org('bank', name => 'Bank');
$t->user('alice', ips => ['10.0.0.0/8']);

sub edits {
    my ($key) = @_;
    return grep { ($_->{event} // '') eq 'admin_change' && $_->{key} eq $key }
           $t->audit_entries(events => 1);
}

# an administrator's edit is in the trail: the test can see one

for (1 .. 50) {
    last if edits('ir:user:alice');
    sleep 0.05;
}

ok(scalar(edits('ir:user:alice')), 'an administrator\'s edit is audited');

$t->allowed($t->get('/', cert => 'alice', ip => '10.0.0.1'),
            'alice, now cached');

my ($rc, $out, $err) = $t->tool('index');
is($rc, 0, 'index') or diag($err);
ok($r->sismember('ir:org:bank:users', 'alice'), 'index wrote the set');

$r->hset('ir:seen:alice', last_seen => '2026-11-27T08:00:00.000Z',
         last_ip => '10.0.0.1');

# a last edit that is audited, to know the trail has caught up

$r->hset('ir:org:bank', contract => 'C-2');

for (1 .. 50) {
    last if edits('ir:org:bank') >= 2;
    sleep 0.05;
}

is(scalar(edits('ir:org:bank')), 2, 'the organisation\'s two edits');
is(scalar(edits('ir:org:bank:users')), 0,
   'the user set that index wrote is no administrator\'s edit');
is(scalar(edits('ir:seen:alice')), 0,
   'what the gateway saw is no administrator\'s edit');

$t->stop_nginx;
$t->check_log;

done_testing;
