#!/usr/bin/perl

# The audit trail and the metrics: the fields of allowed and denied
# entries with their final status, the outage buffer (every entry present
# once and in order), the drop counter, lock and admin events, metrics
# after a known sequence on two workers and across a reload, and dry run.

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

# the entries of requests, or with "events" the lock and admin events
sub entries {
    my ($events) = @_;
    my @e;
    for my $x (@{ $r->xrange('ir:audit', '-', '+') || [] }) {
        my %f = @{ $x->[1] };
        push @e, \%f if $events xor !exists $f{event};
    }
    return @e;
}

sub wait_entries {
    my ($n, $events) = @_;
    my @e;
    for (1 .. 100) {
        @e = entries($events);
        last if @e >= $n;
        sleep 0.05;
    }
    return @e;
}

sub metrics {
    my ($tt) = @_;
    my $body = ($tt // $t)->get('/metrics')->{body};
    my %m;
    for (split /\n/, $body) {
        next if /^#/;
        $m{$1} = $2 if /^(\S+) (\S+)$/;
    }
    return %m;
}

# an allowed and a denied entry, with their final statuses

my %alice = (cert => 'alice', ip => '10.0.0.1');

$t->allowed($t->get('/persons/1?full=1', %alice), 'allowed');
$t->denied($t->get('/persons/2', %alice, ip => '192.0.2.9'),
           403, 'ip_not_allowed', 'denied');
is($t->get('/missing/3', %alice)->{status}, 404, 'allowed, then 404');

my @e = wait_entries(3);
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
is($missing->{status}, '404', 'the final status, not the decision\'s');

my $ids = $t->access_log("ids.log");
like($ids, qr/^\Q$allow->{request_id}\E alice allow$/m,
     'the request id is the access log\'s');
like($ids, qr/^\Q$deny->{request_id}\E alice deny$/m,
     'and so for the denied one');

# dry run: decided, logged, audited and counted, and let through

my $mark = $t->log_mark;
my %before = metrics();
$t->allowed($t->get('/dry/x', %alice, ip => '192.0.2.9'),
            'dry run lets through what enforce denies');
$t->denied($t->get('/x', %alice, ip => '192.0.2.9'), 403, 'ip_not_allowed',
           'enforce denies it');
like($t->log_since($mark),
     qr/dry run, would deny user "alice" from 192\.0\.2\.9: ip_not_allowed/,
     'the dry run logs what it would do');
@e = wait_entries(5);
my ($dry) = grep { $_->{uri} eq '/dry/x' } @e;
is($dry->{mode}, 'dry_run', 'dry run: marked in the trail');
is($dry->{decision}, 'deny', 'dry run: the decision it would make');
is($dry->{reason}, 'ip_not_allowed', 'dry run: and why');
is($dry->{status}, '200', 'dry run: the request went through');
my %after = metrics();
my $k = 'ir_access_requests_total{mode="dry_run",decision="deny",'
        . 'reason="ip_not_allowed"}';
is($after{$k} - ($before{$k} // 0), 1, 'dry run: counted apart');

# a lock made by the module, in the trail

$t->get('/pw/x', cert => 'carol', ip => '10.0.0.1', user => 'carol:wrong')
    for 1 .. 2;
is($r->hget('ir:user:carol', 'status'), 'locked', 'carol locked');
my @locks;
for (1 .. 100) {
    @locks = grep { $_->{event} eq 'account_locked' } entries('events');
    last if @locks;
    sleep 0.05;
}
is(scalar @locks, 1, 'the lock is in the trail once');
is($locks[0]{user}, 'carol', 'with the user');
like($locks[0]{reason}, qr/2 failed logins/, 'and the reason');
is({ metrics() }->{ir_access_locks_total}, 1, 'metrics: the lock counted');

# an admin's edit, in the trail

sub admin_events {
    grep { $_->{event} eq 'admin_change' && $_->{key} eq $_[0] }
        entries('events');
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
is(scalar @admin, $known + 1,
   'an admin\'s edit of an allowlist is in the trail, once');
is($admin[-1]{op}, 'sadd', 'with what was done');
like($admin[-1]{time}, qr/^\d{4}-\d\d-\d\dT/, 'and when');

# metrics after a known sequence, on two workers

my $t2 = $t->instance('m');
$t2->write_config(config($t2, ''), workers => 2);
$t2->start_nginx;

my %m0 = metrics($t2);

$t2->get('/x', %alice) for 1 .. 6;
$t2->get('/x', %alice, ip => '192.0.2.1') for 1 .. 3;
$t2->get('/x', cert => 'bob', ip => '10.0.0.1') for 1 .. 2;
$t2->get('/x', ip => '10.0.0.1') for 1 .. 1;

my %m = metrics($t2);
my $req = sub {
    my ($decision, $reason) = @_;
    my $key = "ir_access_requests_total{mode=\"enforce\",decision=\"$decision\",reason=\"$reason\"}";
    return $m{$key} - ($m0{$key} // 0);
};

is($req->('allow', ''), 8, 'metrics: eight allowed (alice and bob)');
is($req->('deny', 'ip_not_allowed'), 3, 'metrics: three ip_not_allowed');
is($req->('deny', 'cert_required'), 1, 'metrics: one cert_required');
cmp_ok($m{ir_access_redis_commands_total}, '>=', 2,
       'metrics: Redis commands counted');
cmp_ok($m{ir_access_lookup_duration_seconds_count}, '>=', 2,
       'metrics: lookups timed');
is($m{'ir_access_lookup_duration_seconds_bucket{le="+Inf"}'},
   $m{ir_access_lookup_duration_seconds_count},
   'metrics: the histogram adds up');
cmp_ok($m{ir_access_audit_written_total}, '>=', 12,
       'metrics: audit entries written');

my $body = $t2->get('/metrics');
is($body->{headers}{'content-type'}, 'text/plain; version=0.0.4; charset=utf-8',
   'Prometheus text format');

# a stream key of the wrong type: refused, logged, nothing crashes

$t->redis->set('ir:audit', 'not a stream');
$mark = $t2->log_mark;
$t2->allowed($t2->get('/x', %alice), 'a request while the stream key is a string');
my $refused;
for (1 .. 50) {
    $refused = $t2->log_since($mark) =~ /Redis refused an audit entry: WRONGTYPE.*check the stream key/;
    last if $refused;
    sleep 0.05;
}
ok($refused, 'the wrong type of the stream is logged with what to check');
$t->redis->del('ir:audit');
@e = wait_entries(1);
is($e[-1]{uri}, '/x', 'once fixed, the entry waiting in the buffer is written');

# metrics survive a reload

%m = metrics($t2);
my $allowed = $m{'ir_access_requests_total{mode="enforce",decision="allow",reason=""}'};
$t2->reload_nginx;
sleep 1;
%m = metrics($t2);
is($m{'ir_access_requests_total{mode="enforce",decision="allow",reason=""}'},
   $allowed, 'metrics are kept across a reload');

$t2->stop_nginx;
$t2->check_log;

# the outage buffer: one worker, entries kept in order, then written once

$t->stop_nginx;
$t->check_log;

my $t3 = $t->instance('one');
$t3->write_config(config($t3, "ir_access_audit_buffer 20;"), workers => 1);
$t3->start_nginx;

$t3->allowed($t3->get('/x', %alice), 'one worker ready');
$r->del('ir:audit');
provision();
$r->save;
$t->stop_redis;

for my $i (1 .. 12) {
    $t3->get("/outage/$i", %alice);
}

$t->start_redis(notify => 'KA');
$r = $t->redis;

@e = grep { $_->{uri} =~ m{^/outage/} } wait_entries(12);
is(scalar @e, 12, 'every entry made during the outage is written');
is(join(',', map { $_->{uri} =~ m{(\d+)$} } @e), join(',', 1 .. 12),
   'once each, and in order');
is($e[0]{reason}, 'store_unavailable', 'they tell of the outage');

# the bound: what does not fit is counted and logged

$r->del('ir:audit');
$r->save;
%before = metrics($t3);
$mark = $t3->log_mark;
$t->stop_redis;

$t3->get("/flood/$_", %alice) for 1 .. 25;

$t->start_redis(notify => 'KA');
$r = $t->redis;

@e = grep { $_->{uri} =~ m{^/flood/} } wait_entries(20);
sleep 0.5;
@e = grep { $_->{uri} =~ m{^/flood/} } entries();
is(scalar @e, 20, 'the buffer kept twenty entries');
is(join(',', map { $_->{uri} =~ m{(\d+)$} } @e), join(',', 1 .. 20),
   'the oldest, in order');
%after = metrics($t3);
is($after{ir_access_audit_dropped_total}
   - ($before{ir_access_audit_dropped_total} // 0), 5,
   'five dropped, counted');
like($t3->log_since($mark), qr/audit buffer of 20 entries is full/,
     'the drops are logged');

$t3->stop_nginx;
$t3->check_log;

done_testing;
