#!/usr/bin/perl

# Health an operator can watch, and what the gateway remembers of users:
# the status location's gauges (Redis connections up, the notification
# subscription, the cache's entries and free bytes, the version, the
# users whose certificate expires within 30 days) in Prometheus's format
# and as JSON; and each allowed user's "seen" hash, written at most once
# a minute per host.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep);
use IrTest;

my $t = IrTest->new;

$t->start_redis(notify => 'KA');
$t->client_cert('alice', days => 365);
$t->client_cert('bob', days => 10);

$t->write_config(<<'CONF', workers => 2);
    ir_access_redis %%REDIS%%;
    ir_access_cache zone=ir:1m;
    ir_access_redis_notify on;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        location / {
            ir_access on;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /status {
            ir_access_status;
        }
    }
CONF
$t->start_nginx;

my $r = $t->redis;

$t->org('bank', name => 'Bank');
$t->user($_, ips => ['10.0.0.0/8']) for qw(alice bob);

$t->allowed($t->get('/x', cert => 'alice', ip => '10.0.0.1'), 'alice');

# the "seen" hash

my %seen;
for (1 .. 50) {
    %seen = @{ $r->hgetall('ir:seen:alice') || [] };
    last if %seen;
    sleep 0.05;
}

like($seen{last_seen} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
     'seen: when');
is($seen{last_ip}, '10.0.0.1', 'seen: from where');
is($seen{fingerprint}, $t->sha256('alice'), 'seen: with which certificate');

my $enddate = `openssl x509 -in @{[ $t->dir ]}/alice.crt -noout -enddate`;
like($seen{not_after} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/,
     'seen: the certificate\'s end');

$t->allowed($t->get('/x', cert => 'alice', ip => '10.0.0.2'), 'alice again');
sleep 0.3;
is($r->hget('ir:seen:alice', 'last_ip'), '10.0.0.1',
   'seen: not written again within a minute');

is(scalar(grep { /^ir:seen:/ } $r->keys('ir:*')), 1,
   'seen: only for users allowed');

$t->allowed($t->get('/x', cert => 'bob', ip => '10.0.0.1'), 'bob');

# the gauges

sub metrics_when {
    my ($want) = @_;
    my %m;
    for (1 .. 50) {
        %m = $t->metrics('/status');
        last if $want->(\%m);
        sleep 0.1;
    }
    return %m;
}

my %m = metrics_when(sub { ($_[0]{ir_access_redis_up} // 0) == 2 });
is($m{ir_access_redis_up}, 2, 'both workers\' Redis connections up');
is($m{ir_access_notify_up}, 1, 'the subscription up');
is($m{ir_access_cache_entries}, 2, 'two users in the cache');
cmp_ok($m{ir_access_cache_bytes_free}, '>', 0, 'free bytes in the zone');
is($m{'ir_access_build_info{version="0.9.0"}'}, 1, 'the version');

# the expiring certificates are counted by one worker, shortly after its
# start and then every ten minutes: a reload starts one

$t->reload_nginx;
%m = metrics_when(sub { ($_[0]{'ir_access_cert_expiring_users{days="30"}'}
                         // 0) == 1 });
is($m{'ir_access_cert_expiring_users{days="30"}'}, 1,
   'one user\'s certificate expires within 30 days');

# the same as JSON

my $res = $t->get('/status?format=json');
is($res->{headers}{'content-type'}, 'application/json', 'JSON');
my $json = eval { decode_json($res->{body}) };
ok($json, 'parses') or diag($res->{body});
is($json->{ir_access_build_info}[0]{version}, '0.9.0', 'with the labels');
is($json->{ir_access_cache_entries}[0]{value}, 2, 'and the values');
is(scalar(grep { $_->{reason} eq 'ip_not_allowed' && $_->{mode} eq 'enforce' }
          @{ $json->{ir_access_requests_total} }), 1,
   'a value per label set');

# Redis down: the gauges say so

$t->expect_redis_down;
$t->stop_redis;
$t->get('/x', cert => 'bob', ip => '10.0.0.1') for 1 .. 3;
%m = metrics_when(sub { ($_[0]{ir_access_notify_up} // 1) == 0 });
is($m{ir_access_notify_up}, 0, 'Redis down: the subscription is down');
cmp_ok($m{ir_access_redis_up}, '<', 2, 'and a worker\'s connection');

$t->stop_nginx;
$t->check_log;

done_testing;
