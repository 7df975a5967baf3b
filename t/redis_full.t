#!/usr/bin/perl

# A full Redis ("maxmemory" with "noeviction") refuses writes with OOM.
# The lockout then fails closed: a login whose failure could not be
# counted is not compared at all, and the log says why; only a counter
# of the wrong type is ever repaired.  Audit entries that Redis refuses
# are counted as dropped and logged with Redis's own words.

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

$t->write_config(<<'CONF');
    ir_access_redis %%REDIS%%;
    ir_access_audit stream=ir:audit;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        ir_access on;

        location / {
            ir_access_password on;
            ir_access_lockout 5;
            ir_access_password_remember off;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /metrics {
            ir_access off;
            ir_access_status;
        }
    }
CONF

$t->start_nginx;

my $r = $t->redis;

$t->org('bank', name => 'Bank');
$t->user('alice', ips => ['10.0.0.0/8'], password => '{PLAIN}secret');

my %alice = (cert => 'alice', ip => '10.0.0.1');

$t->allowed($t->get('/x', %alice, user => 'alice:secret'), 'before: allowed');
is(scalar($t->wait_audit(1)), 1, 'and its entry written, before Redis fills');

# the good login gives its place back after its answer: wait for that
for (1 .. 50) {
    last unless $r->exists('ir:user:alice:tries');
    sleep 0.05;
}

# Redis past its limit: "maxmemory" below what it holds, as after a load
# (the first request's audit entry may still be on its way, and refused)

my $mark = $t->log_mark;

$r->set('filler:' . $_, 'x' x 1024) for 1 .. 200;
my $used = $r->info('memory')->{used_memory};
$r->config_set('maxmemory-policy', 'noeviction');
$r->config_set('maxmemory', $used - 100 * 1024);

eval { $r->incr('filler:counter') };
like($@, qr/OOM/, 'Redis is full: not even a counter fits');

my %before = $t->metrics;

$t->expect_error(qr/ir_access: Redis did not reserve a login of user "alice": OOM command not allowed /,
                 qr/ir_access: Redis refused an audit entry: OOM command not allowed .*; it is dropped, /);

# twenty wrong passwords and then the right one: none gets through, none
# is compared, and nothing is silently restarted

for (1 .. 20) {
    $t->denied($t->get('/x', %alice, user => 'alice:wrong'), 503,
               'store_unavailable', "full: wrong password $_");
}
$t->denied($t->get('/x', %alice, user => 'alice:secret'), 503,
           'store_unavailable', 'full: and the right one');

my $log = $t->log_since($mark);
like($log, qr/Redis did not reserve a login of user "alice": OOM/,
     'the refusal is logged with Redis\'s own words');
unlike($log, qr/password does not match/, 'no password was compared');
is($r->get('ir:user:alice:fails'), undef, 'nothing was counted');

# an audit entry Redis refuses is dropped, counted and logged

my %after;
for (1 .. 50) {
    %after = $t->metrics;
    last if ($after{ir_access_audit_dropped_total} // 0)
            - ($before{ir_access_audit_dropped_total} // 0) >= 21;
    sleep 0.05;
}
sleep 0.2;
%after = $t->metrics;
is($after{ir_access_audit_dropped_total}
   - ($before{ir_access_audit_dropped_total} // 0), 21,
   'the 21 refused audit entries are counted as dropped');
is($after{ir_access_audit_buffered}, 0, 'and not held back');
like($t->log_since($mark),
     qr/Redis refused an audit entry: OOM .*it is dropped/,
     'and logged with the cause');

# room again: logins count, and the lock comes at the limit

$r->config_set('maxmemory', 0);

$t->denied($t->get('/x', %alice, user => 'alice:wrong'), 401,
           'bad_password', 'room again: a wrong password') for 1 .. 4;
is($r->get('ir:user:alice:fails'), 4, 'counted');
$t->expect_error(qr/ir_access: user "alice" locked after 5 failed logins; /);
$t->denied($t->get('/x', %alice, user => 'alice:wrong'), 401,
           'bad_password', 'room again: the fifth wrong password');
is($r->hget('ir:user:alice', 'status'), 'locked', 'locked at five');

$t->stop_nginx;
$t->check_log;

done_testing;
