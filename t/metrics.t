#!/usr/bin/perl

# The metrics (ir_access_status): after a known sequence of requests on
# two workers every counter is exact (requests by mode, decision and
# reason, lookups and their histogram, audit entries written, the Redis
# commands each of them and each user "seen" take), a dry run is counted
# apart from enforcement, a lock made by the module is counted, the text
# is Prometheus's, and the counters are kept across a reload.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep);
use IrTest;

my $t = IrTest->new;

$t->start_redis;
$t->client_cert($_) for qw(alice bob carol);

$t->write_config(<<'CONF', workers => 2);
    ir_access_redis %%REDIS%%;
    ir_access_audit stream=ir:audit;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        location / {
            ir_access on;
            add_header X-Worker $pid always;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
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
$t->start_nginx;

$t->org('bank', name => 'Bank', contract => 'C-1');
$t->user('alice', ips => ['10.0.0.0/8']);
$t->user('bob', ips => ['10.0.0.0/8']);
$t->user('carol', ips => ['10.0.0.0/8'],
         password => (split /[:\n]/, `htpasswd -nbs carol secret`)[1]);

my %alice = (cert => 'alice', ip => '10.0.0.1');

sub requests {
    my ($m, $mode, $decision, $reason) = @_;
    return $m->{"ir_access_requests_total{mode=\"$mode\","
                . "decision=\"$decision\",reason=\"$reason\"}"} // 0;
}

# the metrics once the audit entries of $n requests are written
sub settled {
    my ($n) = @_;
    my %m;
    for (1 .. 100) {
        %m = $t->metrics;
        last if ($m{ir_access_audit_written_total} // 0) >= $n;
        sleep 0.05;
    }
    sleep 0.2;
    return $t->metrics;
}

# a known sequence, on two workers

# the workers' first commands: a PING each, the stream's watch, and a
# second after the start the count of expiring certificates
sleep 1.5;

my %m = $t->metrics;
is(join(',', map { $_ // 0 } @m{qw(ir_access_lookup_duration_seconds_count
                                   ir_access_audit_written_total)}),
   '0,0', 'no lookup and no audit entry before the first request');
is(scalar(grep { /^ir_access_requests_total\{/ && $m{$_} } keys %m), 0,
   'and no decision');

$t->redis->config_resetstat;
my %m0 = $t->metrics;

# each worker writes an allowed user's "seen" once (there is no cache)
my %seen;

for my $n (1 .. 6) {
    my $res = $t->get('/x', %alice);
    $t->allowed($res, "alice $n");
    $seen{"alice $res->{headers}{'x-worker'}"} = 1;
}
$t->denied($t->get('/x', %alice, ip => '192.0.2.1'), 403, 'ip_not_allowed',
           "alice from outside $_") for 1 .. 3;
for my $n (1 .. 2) {
    my $res = $t->get('/x', cert => 'bob', ip => '10.0.0.1');
    $t->allowed($res, "bob $n");
    $seen{"bob $res->{headers}{'x-worker'}"} = 1;
}
$t->denied($t->get('/x', ip => '10.0.0.1'), 403, 'cert_required',
           'no certificate');

%m = settled(12);

# what runs by the clock may have run meanwhile, as Redis counted it: the
# stream's watch (XLEN and XRANGE every 10 s) and each worker's look at
# the maintenance (HMGET and GET every second); the metrics are read
# again until no such command came between them and Redis's counts
sub clock_commands {
    my %stats = %{ $t->redis->info('commandstats') };
    return map { (($stats{"cmdstat_$_"} // '') =~ /\bcalls=(\d+)/)[0] // 0 }
               qw(xlen hmget);
}

my ($watched, $looked);
for (1 .. 20) {
    my @before = clock_commands();
    %m = $t->metrics;
    ($watched, $looked) = clock_commands();
    last if $before[0] == $watched && $before[1] == $looked;
    sleep 0.1;
}

is(requests(\%m, 'enforce', 'allow', ''), 8,
   'metrics: eight allowed (alice and bob)');
is(requests(\%m, 'enforce', 'deny', 'ip_not_allowed'), 3,
   'metrics: three ip_not_allowed');
is(requests(\%m, 'enforce', 'deny', 'cert_required'), 1,
   'metrics: one cert_required');
is(scalar(grep { /^ir_access_requests_total\{/ && $m{$_} } keys %m), 3,
   'metrics: no other decision counted');
is($m{ir_access_lookup_duration_seconds_count}, 11,
   'metrics: eleven lookups timed (none without a certificate)');
is($m{'ir_access_lookup_duration_seconds_bucket{le="+Inf"}'}, 11,
   'metrics: the histogram adds up');
is($m{ir_access_audit_written_total}, 12,
   'metrics: twelve audit entries written');
is($m{ir_access_audit_dropped_total}, 0, 'metrics: none dropped');

my $seen = keys %seen;
is($m{ir_access_redis_commands_total} - $m0{ir_access_redis_commands_total},
   11 + 12 + $seen + 2 * $watched + 2 * $looked,
   "metrics: a Redis command for each lookup, audit entry and $seen \"seen\" "
   . "written, and the clock's: the stream watched $watched times, the "
   . "maintenance looked at $looked times");

my $res = $t->get('/metrics');
is($res->{headers}{'content-type'}, 'text/plain; version=0.0.4; charset=utf-8',
   'Prometheus text format');
like($res->{body}, qr/^# TYPE ir_access_requests_total counter$/m,
     'with the types of the counters');

# dry run: counted apart

%m = $t->metrics;
$t->allowed($t->get('/dry/x', %alice, ip => '192.0.2.9'),
            'dry run lets through what enforce denies');
my %after = settled(13);
is(requests(\%after, 'dry_run', 'deny', 'ip_not_allowed')
   - requests(\%m, 'dry_run', 'deny', 'ip_not_allowed'), 1,
   'dry run: counted apart');
is(requests(\%after, 'enforce', 'deny', 'ip_not_allowed'),
   requests(\%m, 'enforce', 'deny', 'ip_not_allowed'),
   'dry run: not as an enforced denial');

# a lock made by the module

$t->expect_error(qr/ir_access: user "carol" locked after 2 failed logins; /);

$t->denied($t->get('/pw/x', cert => 'carol', ip => '10.0.0.1',
                   user => 'carol:wrong'), 401, 'bad_password',
           "a wrong password $_") for 1 .. 2;
%m = $t->metrics;
is($m{ir_access_locks_total}, 1, 'metrics: the lock counted');

# the counters survive a reload

%m = settled(15);
$t->reload_nginx;
sleep 1;
my %reloaded = $t->metrics;
is(requests(\%reloaded, 'enforce', 'allow', ''),
   requests(\%m, 'enforce', 'allow', ''), 'metrics are kept across a reload');
is($reloaded{ir_access_lookup_duration_seconds_count},
   $m{ir_access_lookup_duration_seconds_count}, 'all of them');

$t->stop_nginx;
$t->check_log;

done_testing;
