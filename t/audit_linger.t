#!/usr/bin/perl

# A worker that exits (a reload) with audit entries Redis has not taken:
# it stays until Redis is back, writes every entry once and in order, then
# leaves; where Redis stays away, it gives up after about 30 s (reloads
# during a long outage must not pile up old workers), logs how many
# entries it could not write, counts them as dropped, and leaves.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep time);
use IrTest;

my $t = IrTest->new;

$t->start_redis;
$t->client_cert('alice');

$t->write_config(<<'CONF');
    ir_access_redis %%REDIS%%;
    ir_access_redis_timeout 300ms;
    ir_access_audit stream=ir:audit;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%

        location / {
            ir_access on;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /metrics {
            ir_access_status;
        }
    }
CONF

$t->org('bank', name => 'Bank', contract => 'C-1');
$t->user('alice', ips => ['10.0.0.0/8']);

$t->start_nginx;

my %alice = (cert => 'alice', ip => '10.0.0.1');

$t->allowed($t->get('/ready', %alice), 'allowed while Redis is up');

# the entries of the requests to /$prefix/...
sub entries {
    my ($prefix) = @_;
    return grep { $_->{uri} =~ m{^/\Q$prefix\E/} } $t->audit_entries;
}

sub metric {
    my ($name) = @_;
    my %m = $t->metrics;
    return $m{$name} // 0;
}

# The old worker, once a reload has started a new one.
sub reload_during_outage {
    my ($prefix, $n) = @_;

    my ($old) = $t->worker_pids;

    $t->expect_redis_down;
    $t->redis->save;
    $t->stop_redis;

    $t->denied($t->get("/$prefix/$_", %alice), 503, 'store_unavailable',
               "$prefix: request $_ during the outage") for 1 .. $n;

    $t->reload_nginx;

    for (1 .. 250) {
        last if grep { $_ != $old } $t->worker_pids;
        sleep 0.02;
    }

    ok((grep { $_ != $old } $t->worker_pids), "$prefix: a new worker");

    return $old;
}

sub gone_within {
    my ($pid, $seconds) = @_;
    my $start = time;

    while (time - $start < $seconds) {
        # the master reaps its old worker; until then it is a zombie
        my $state = `ps -o stat= -p $pid 2>/dev/null`;
        return time - $start if $state eq '' || $state =~ /^Z/;
        sleep 0.1;
    }

    return;
}

# Redis returns: every entry is written, then the old worker leaves

my $mark = $t->log_mark;
my $old = reload_during_outage('back', 5);

sleep 1.5;
ok(kill(0, $old), 'the old worker stays while its entries are unwritten');

$t->start_redis;

my @e;
for (1 .. 100) {
    @e = entries('back');
    last if @e >= 5;
    sleep 0.05;
}

is(scalar @e, 5, 'every entry is written once Redis is back');
is(join(',', map { $_->{uri} =~ m{(\d+)$} } @e), '1,2,3,4,5',
   'once each, and in order');
is($e[0]{reason}, 'store_unavailable', 'telling of the outage');

ok(defined gone_within($old, 10), 'then the old worker leaves');
unlike($t->log_since($mark), qr/were not written/, 'nothing lost');

# Redis stays away: the old worker gives up after about 30 s

my $dropped = metric('ir_access_audit_dropped_total');

$t->expect_error(qr/ir_access: 3 audit entries were not written: Redis was unavailable when the worker exited/);
$mark = $t->log_mark;
$old = reload_during_outage('lost', 3);

my $lived = gone_within($old, 60);

ok(defined $lived, 'the old worker leaves although Redis is still away');
cmp_ok($lived // 0, '>=', 25, 'after waiting for Redis for about 30 s');

like($t->log_since($mark),
     qr/3 audit entries were not written: Redis was unavailable when the worker exited/,
     'and logs how many entries it could not write');

$t->start_redis;

is(metric('ir_access_audit_dropped_total') - $dropped, 3,
   'they are counted as dropped');

# (the new worker connects again on its own schedule)
is($t->poll_status('/ready/again', 200, %alice), 200,
   'the new worker decides again');
$t->allowed($t->get('/after/1', %alice), 'the new worker decides');

for (1 .. 100) {
    last if entries('after');
    sleep 0.05;
}

is(scalar(entries('after')), 1, 'and writes its own entries');
is(scalar(entries('lost')), 0, 'what was given up is not written later');

$t->stop_nginx;
$t->check_log;

done_testing;
