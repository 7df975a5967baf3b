#!/usr/bin/perl

# The audit trail: the fields of allowed and denied entries with their
# final status and the access log's request id; a dry run marked in the
# trail with the decision it would make; the lock and an admin's edit as
# events, once each; a stream key of the wrong type refused and logged,
# its entries kept until it is fixed; the outage buffer (every entry
# written once and in order after Redis returns); and its bound (what
# does not fit is counted and logged).  Every count is exact.  The
# metrics are metrics.t's; an exiting worker's entries audit_linger.t's.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep);
use IrTest;

my $t = IrTest->new;

$t->start_redis(notify => 'KA');
$t->client_cert($_) for qw(alice bob carol);

my $conf = <<'CONF';
    ir_access_redis %%REDIS%%;
    ir_access_audit stream=ir:audit maxlen=100000;
    %%EXTRA%%

    log_format ids '$request_id $ir_access_user $ir_access_decision';

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        access_log %%DIR%%/logs/ids%%NAME%%.log ids;

        location / {
            ir_access on;
            ir_access_scope person.basic;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /missing {
            ir_access on;
            root %%DIR%%/nothing-here;
        }

        location /dry/ {
            ir_access on;
            ir_access_mode dry_run;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /pw/ {
            ir_access on;
            ir_access_password on;
            ir_access_lockout 2;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /metrics {
            ir_access_status;
        }
    }
CONF

sub config {
    my ($t, $extra) = @_;
    (my $c = $conf) =~ s/%%EXTRA%%/$extra/;
    $c =~ s/%%NAME%%/$t->{name}/g;
    return $c;
}

$t->write_config(config($t, "ir_access_cache zone=ir:1m;\n"
                            . "ir_access_redis_notify on;"), workers => 2);
$t->start_nginx;

sub provision {
    $t->org('bank', name => 'Bank', contract => 'C-1',
            scopes => ['person.basic']);
    $t->user('alice', ips => ['10.0.0.0/8'], unit => 'loans');
    $t->user('bob', ips => ['10.0.0.0/8']);
    $t->user('carol', ips => ['10.0.0.0/8'],
             password => (split /[:\n]/, `htpasswd -nbs carol secret`)[1]);
}

provision();

my $r = $t->redis;

# an allowed and a denied entry, with their final statuses

my %alice = (cert => 'alice', ip => '10.0.0.1');

$t->audit_reset;

$t->allowed($t->get('/persons/1?full=1', %alice), 'allowed');
$t->denied($t->get('/persons/2', %alice, ip => '192.0.2.9'),
           403, 'ip_not_allowed', 'denied');
$t->expect_error(qr/open\(\) ".*\/nothing-here\/missing\/3" failed/);
is($t->get('/missing/3', %alice)->{status}, 404, 'allowed, then 404');

my @e = $t->wait_audit(3);
is(scalar @e, 3, 'three entries');

my ($allow, $deny, $missing) = @e;

is($allow->{user}, 'alice', 'user');
is($allow->{org}, 'bank', 'org');
is($allow->{unit}, 'loans', 'unit');
is($allow->{contract}, 'C-1', 'contract');
is($allow->{ip}, '10.0.0.1', 'ip');
is($allow->{country}, '', 'country (no GeoIP here)');
is($allow->{method}, 'GET', 'method');
is($allow->{uri}, '/persons/1?full=1', 'uri with its arguments');
is($allow->{scope}, 'person.basic', 'the scope the location needs');
is($allow->{decision}, 'allow', 'decision');
is($allow->{reason}, '', 'no reason when allowed');
is($allow->{status}, '200', 'status');
is($allow->{mode}, 'enforce', 'mode');
like($allow->{time}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
     'time of the request');
like($allow->{request_id}, qr/^[0-9a-f]{32}$/, 'a request id');

is($deny->{decision}, 'deny', 'denied: decision');
is($deny->{reason}, 'ip_not_allowed', 'denied: reason');
is($deny->{ip}, '192.0.2.9', 'denied: the address');
is($deny->{status}, '403', 'denied: status');
is($missing->{uri}, '/missing/3', 'the third: its URI');
is($missing->{decision}, 'allow', 'the third: allowed');
is($missing->{status}, '404', 'the final status, not the decision\'s');

my $ids = $t->access_log("ids.log");
like($ids, qr/^\Q$allow->{request_id}\E alice allow$/m,
     'the request id is the access log\'s');
like($ids, qr/^\Q$deny->{request_id}\E alice deny$/m,
     'and so for the denied one');

# dry run: decided, logged, audited, and let through

$t->audit_reset;

my $mark = $t->log_mark;
$t->allowed($t->get('/dry/x', %alice, ip => '192.0.2.9'),
            'dry run lets through what enforce denies');
$t->denied($t->get('/x', %alice, ip => '192.0.2.9'), 403, 'ip_not_allowed',
           'enforce denies it');
like($t->log_since($mark),
     qr/dry run, would deny user "alice" from 192\.0\.2\.9: ip_not_allowed/,
     'the dry run logs what it would do');
@e = $t->wait_audit(2);
is(scalar @e, 2, 'two entries');
my ($dry, $enforced) = @e;
is($dry->{uri}, '/dry/x', 'dry run: the first');
is($dry->{mode}, 'dry_run', 'dry run: marked in the trail');
is($dry->{decision}, 'deny', 'dry run: the decision it would make');
is($dry->{reason}, 'ip_not_allowed', 'dry run: and why');
is($dry->{status}, '200', 'dry run: the request went through');
is($enforced->{mode}, 'enforce', 'enforced: marked so');
is($enforced->{status}, '403', 'enforced: refused');

# a lock made by the module, in the trail

$t->expect_error(qr/ir_access: user "carol" locked after 2 failed logins; /);

$t->get('/pw/x', cert => 'carol', ip => '10.0.0.1', user => 'carol:wrong')
    for 1 .. 2;
is($r->hget('ir:user:carol', 'status'), 'locked', 'carol locked');
my @locks;
for (1 .. 100) {
    @locks = grep { $_->{event} eq 'account_locked' }
             $t->audit_entries(events => 1);
    last if @locks;
    sleep 0.05;
}
sleep 0.2;
@locks = grep { $_->{event} eq 'account_locked' }
         $t->audit_entries(events => 1);
is(scalar @locks, 1, 'the lock is in the trail once');
is($locks[0]{user}, 'carol', 'with the user');
like($locks[0]{reason}, qr/^2 failed logins \(wrong password\)$/,
     'and the reason');

# an admin's edit, in the trail

sub admin_events {
    grep { $_->{event} eq 'admin_change' && $_->{key} eq $_[0] }
        $t->audit_entries(events => 1);
}

sleep 0.5;
my $known = () = admin_events('ir:user:bob:ips');
$r->sadd('ir:user:bob:ips', '198.51.100.0/24');
my @admin;
for (1 .. 100) {
    @admin = admin_events('ir:user:bob:ips');
    last if @admin > $known;
    sleep 0.05;
}
sleep 0.2;
@admin = admin_events('ir:user:bob:ips');
is(scalar @admin, $known + 1,
   'an admin\'s edit of an allowlist is in the trail, once');
is($admin[-1]{op}, 'sadd', 'with what was done');
like($admin[-1]{time}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
     'and when');

$t->stop_nginx;
$t->check_log;

# a stream key of the wrong type: refused, logged, nothing crashes, and
# the entry waits in the buffer until the key is fixed

my $t2 = $t->instance('wrongtype');
$t2->write_config(config($t2, ''), workers => 1);
$t2->start_nginx;

$t->audit_reset;
$r->set('ir:audit', 'not a stream');
$mark = $t2->log_mark;
$t2->expect_error(qr/Redis refused an audit entry: WRONGTYPE/);
$t2->allowed($t2->get('/x', %alice),
             'a request while the stream key is a string');
ok($t->wait_for(sub { $t2->log_since($mark) =~ /Redis refused an audit entry: WRONGTYPE.*; entries are kept and sent again \(for WRONGTYPE, check the stream key of "ir_access_audit"\)/ }),
   'the wrong type of the stream is logged with what to check');
$r->del('ir:audit');
@e = $t->wait_audit(1);
sleep 0.3;
@e = $t->audit_entries;
is(scalar @e, 1, 'once fixed, the entry waiting in the buffer is written');
is($e[0]{uri}, '/x', 'that entry');

# Redis busy with a script: its entries are kept and written once it is
# free again, not dropped

$t2->allowed($t2->get('/x', %alice), 'alice looked up before the script');
$t->audit_reset;
$r->config_set('busy-reply-threshold', 100);
my $port = $t->redis_port;
system("redis-cli -p $port EVAL 'while true do end' 0 >/dev/null 2>&1 &");
ok($t->wait_for(sub { !eval { $t->redis->get('x'); 1 } && $@ =~ /BUSY/ }),
   'Redis is busy with a script');

$mark = $t2->log_mark;
$t2->expect_error(qr/Redis refused an audit entry: BUSY/);
$t2->expect_error(qr/Redis failed the lookup of user "alice": BUSY/);
$t2->get("/busy/$_", %alice) for 1 .. 3;
ok($t->wait_for(sub { $t2->log_since($mark) =~ /Redis refused an audit entry: BUSY.*entries are kept and sent again/ }),
   'a busy Redis is logged, the entries kept');

system("redis-cli -p $port SCRIPT KILL >/dev/null 2>&1");
ok($t->wait_for(sub { eval { $t->redis->config_set('busy-reply-threshold', 5000); 1 } }),
   'Redis free again');
$r = $t->redis;

@e = $t->wait_audit(3);
sleep 0.3;
@e = grep { $_->{uri} =~ m{^/busy/} } $t->audit_entries;
is(join(',', map { $_->{uri} =~ m{^/busy/(\d+)$} } @e), '1,2,3',
   'once Redis is free, every entry made while busy is written, in order');

$t2->stop_nginx;
$t2->check_log;

# the outage buffer: one worker, entries kept in order, then written once

my $t3 = $t->instance('one');
$t3->write_config(config($t3, "ir_access_audit_buffer 20;"), workers => 1);
$t3->start_nginx;

$t3->allowed($t3->get('/x', %alice), 'one worker ready');
$t3->expect_redis_down;
$t->audit_reset;
$r->save;
$t->stop_redis;

$t3->denied($t3->get("/outage/$_", %alice), 503, 'store_unavailable',
            "request $_ during the outage") for 1 .. 12;

$t->start_redis(notify => 'KA');
$r = $t->redis;

@e = $t->wait_audit(12);
sleep 0.3;
@e = $t->audit_entries;
is(scalar @e, 12, 'every entry made during the outage is written');
is(join(',', map { $_->{uri} =~ m{^/outage/(\d+)$} } @e), join(',', 1 .. 12),
   'once each, and in order');
is(scalar(grep { $_->{reason} eq 'store_unavailable' } @e), 12,
   'they tell of the outage');

# the bound: what does not fit is counted and logged

$t->audit_reset;
$r->save;
my %before = $t3->metrics;
$mark = $t3->log_mark;
$t->stop_redis;

$t3->expect_error(qr/ir_access: the audit buffer of 20 entries is full/);
$t3->get("/flood/$_", %alice) for 1 .. 25;

$t->start_redis(notify => 'KA');
$r = $t->redis;

@e = $t->wait_audit(20);
sleep 0.5;
@e = $t->audit_entries;
is(scalar @e, 20, 'the buffer kept twenty entries');
is(join(',', map { $_->{uri} =~ m{^/flood/(\d+)$} } @e), join(',', 1 .. 20),
   'the oldest, in order');
my %after = $t3->metrics;
is($after{ir_access_audit_dropped_total}
   - ($before{ir_access_audit_dropped_total} // 0), 5,
   'five dropped, counted');
is($after{ir_access_audit_buffered}, 0, 'and none left in the buffer');
my @full = $t3->log_since($mark) =~ /audit buffer of 20 entries is full/g;
is(scalar @full, 1, 'the drops are logged, once');

$t3->stop_nginx;
$t3->check_log;

done_testing;
