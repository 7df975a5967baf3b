#!/usr/bin/perl

# Announced maintenance: one HSET closes the guarded places of an
# environment (503, Retry-After from "until", the message), before the
# identity is even looked at, and one DEL opens them again, both at once
# with notifications and within a second without; unguarded places stay
# open; an "until" that is past or no time, a hash of the wrong type and
# a message with a control character never close anything; the beginning
# and the end are in the audit trail once across two gateways.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use POSIX qw(strftime);
use Test::More;
use Time::HiRes qw(sleep time);
use IrTest;

my $t = IrTest->new;

$t->start_redis(notify => 'KA');
$t->client_cert('alice');

my $places = <<'CONF';
        location / {
            ir_access on;
            ir_access_env prod;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /test/ {
            ir_access on;
            ir_access_env test;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /noenv/ {
            ir_access on;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /dry/ {
            ir_access on;
            ir_access_env prod;
            ir_access_mode dry_run;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /open {
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location = /metrics {
            ir_access_status;
        }
CONF

$t->write_config(<<"CONF", workers => 2);
    ir_access_redis %%REDIS%%;
    ir_access_timezone Pacific/Kiritimati;
    ir_access_cache zone=ir:1m ttl=1h;
    ir_access_redis_notify on;
    ir_access_audit stream=ir:audit;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
$places
    }
CONF
$t->start_nginx;

$t->org('bank', name => 'Bank', env => 'prod test');
$t->user('alice', ips => ['10.0.0.0/8']);

my %alice = (cert => 'alice', ip => '10.0.0.1');

sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($_[0])) }

# the hash replaced at once, as an admin's one HSET writes it
sub maintenance {
    my (%f) = @_;
    my $r = $t->redis;
    $r->multi;
    $r->del('ir:maintenance');
    $r->hset('ir:maintenance', map { $_ => $f{$_} } sort keys %f);
    $r->exec;
}

sub body_is {
    my ($res, $message, $until, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my $json = '\{"error":"maintenance",'
               . (defined $message ? '"message":"' . quotemeta($message) . '",'
                                   : '')
               . '"until":"' . quotemeta($until) . '",'
               . '"request_id":"[0-9a-f]{32}"\}';

    like($res->{body}, qr/^$json$/, $name) or diag($res->{body});
}

# the answer once it matches (or after five seconds): the gateway reads
# the hash when Redis notifies it
sub answer_like {
    my ($re) = @_;
    my $res;
    for (1 .. 100) {
        $res = $t->get('/', %alice);
        last if $res->{body} =~ $re;
        sleep 0.05;
    }
    return $res;
}

# the log since a mark once it matches (or after five seconds)
sub log_like {
    my ($mark, $re) = @_;
    my $log;
    for (1 .. 100) {
        $log = $t->log_since($mark);
        last if $log =~ $re;
        sleep 0.05;
    }
    return $log;
}

$t->allowed($t->get('/', %alice), 'no maintenance: served');

# closed with one HSET ---------------------------------------------------

my $end = int(time) + 3600;
my $mark = $t->log_mark;

maintenance(env => 'prod', until => iso($end),
            message => 'Planned upgrade: "v2" \\ back soon');

is($t->poll_status('/', 503, %alice), 503, 'HSET: closed at once');

my $res = $t->get('/', %alice);
is($res->{status}, 503, 'maintenance: 503');
is($res->{headers}{'content-type'}, 'application/json', 'as JSON');
body_is($res, 'Planned upgrade: \"v2\" \\\\ back soon', iso($end),
        'the message escaped and the end, in UTC');
cmp_ok($res->{headers}{'retry-after'}, '<=', $end - int(time) + 1,
       'Retry-After: until the end (high bound)');
cmp_ok($res->{headers}{'retry-after'}, '>=', $end - int(time) - 2,
       'Retry-After: until the end (low bound)');

$res = $t->get('/');
is($res->{status}, 503, 'without a certificate: maintenance too, before the identity');
body_is($res, 'Planned upgrade: \"v2\" \\\\ back soon', iso($end),
        'the same answer');

$t->allowed($t->get('/open', %alice), 'an unguarded place stays open');
$t->allowed($t->get('/test/p', %alice), 'a test place stays open for env prod');
$t->allowed($t->get('/noenv/p', %alice),
            'a place without ir_access_env stays open for env prod');

$t->allowed($t->get('/dry/p', %alice), 'dry run: served');
like($t->log_since($mark),
     qr/\[info\].*dry run, would deny user "" from .*: maintenance, the service is closed for maintenance/,
     'dry run: logged as what it would do');
like($t->log_since($mark),
     qr/\[notice\].*the maintenance until \Q@{[iso($end)]}\E begins, env "prod"/,
     'the beginning is logged');

my %m = $t->metrics;
cmp_ok($m{'ir_access_requests_total{mode="enforce",decision="deny",reason="maintenance"}'},
       '>=', 3, 'metric: maintenance refusals counted');

# environments ----------------------------------------------------------

$t->redis->hset('ir:maintenance', 'env', 'both');
is($t->poll_status('/test/p', 503, %alice), 503, 'env both: test closed');
is($t->get('/noenv/p', %alice)->{status}, 503, 'env both: a place without env closed');
is($t->get('/', %alice)->{status}, 503, 'env both: prod closed');

$t->redis->hset('ir:maintenance', 'env', 'test');
is($t->poll_status('/', 200, %alice), 200, 'env test: prod open again');
is($t->get('/test/p', %alice)->{status}, 503, 'env test: test closed');

$t->redis->hset('ir:maintenance', 'env', 'prod, test');
is($t->poll_status('/', 503, %alice), 503, 'env "prod, test": prod closed');
is($t->get('/test/p', %alice)->{status}, 503, 'and test');
is($t->get('/noenv/p', %alice)->{status}, 200, 'but not a place without env');

$t->redis->hdel('ir:maintenance', 'env');
is($t->poll_status('/noenv/p', 503, %alice), 503, 'no env: every place closed');

$t->redis->hset('ir:maintenance', 'env', 'prod');
is($t->poll_status('/noenv/p', 200, %alice), 200, 'env prod again');
$t->redis->hset('ir:maintenance', 'env', ' , ');
is($t->poll_status('/noenv/p', 503, %alice), 503,
   'an env of separators alone is empty: every place closed');
is($t->get('/test/p', %alice)->{status}, 503, 'test too');

# until with an offset, UTF-8, a control character -----------------------

maintenance(env => 'prod', until => strftime('%Y-%m-%dT%H:%M:%S+02:00',
                                             gmtime($end + 7200)),
            message => "Apkope l\xc4\xabdz 10:00");
$res = answer_like(qr/Apkope/);
body_is($res, "Apkope l\xc4\xabdz 10:00", iso($end),
        'an offset read as UTC, a UTF-8 message passed as it is');

# without an offset, a time of ir_access_timezone (UTC+14 all year here),
# as contract dates are, whatever zone the host runs in
maintenance(env => 'prod', until => strftime('%Y-%m-%dT%H:%M:%S',
                                             gmtime($end + 14 * 3600)),
            message => 'Kiritimati');
$res = answer_like(qr/Kiritimati/);
body_is($res, 'Kiritimati', iso($end),
        'no offset: a local time of ir_access_timezone');

$t->expect_error(qr/ir_access: the maintenance "ir:maintenance" \(until "[^"]+"\) has a "message" that is longer than 1024 bytes, holds a control character or is not UTF-8; /);
$mark = $t->log_mark;
maintenance(env => 'prod', until => iso($end), message => "two\tlines");
$res = answer_like(qr/^\{"error":"maintenance","until"/);
is($res->{status}, 503, 'a message with a control character: still closed');
body_is($res, undef, iso($end), 'without the message');
like(log_like($mark, qr/has a "message"/),
     qr/\[error\].*the maintenance "ir:maintenance" \(until "[^"]+"\) has a "message" that is longer than 1024 bytes, holds a control character or is not UTF-8/,
     'and that is logged');

# open again with one DEL --------------------------------------------------

$t->redis->del('ir:maintenance');
is($t->poll_status('/', 200, %alice), 200, 'DEL: open at once');

# what never closes anything ------------------------------------------------

for my $case (
    [ 'an until in the past', iso(time - 60),
      qr/has an "until" in the past, so there is no maintenance/ ],
    [ 'an until that is no time', 'tomorrow morning',
      qr/has an "until" that is no ISO 8601 time/ ],
    [ 'a date without a time', strftime('%Y-%m-%d', gmtime($end)),
      qr/has an "until" that is no ISO 8601 time/ ],
    [ 'an impossible time', strftime('%Y-%m-%dT25:00:00Z', gmtime($end)),
      qr/has an "until" that is no ISO 8601 time/ ],
    [ 'no until', undef, qr/has no "until", so there is no maintenance/ ],
)
{
    my ($name, $until, $log) = @$case;

    $t->expect_error(qr/ir_access: the maintenance "ir:maintenance" .*$log/);
    $mark = $t->log_mark;
    maintenance(env => 'prod', message => 'x',
                defined $until ? (until => $until) : ());

    like(log_like($mark, $log),
         qr/\[error\].*ir_access: the maintenance "ir:maintenance" .*$log/,
         "$name: logged at error");
    $t->allowed($t->get('/', %alice), "$name: served");
}

$t->expect_error(qr/ir_access: the maintenance "ir:maintenance" .*could not be read \(WRONGTYPE [^)]*\), so there is no maintenance; /);
$mark = $t->log_mark;
$t->redis->del('ir:maintenance');
$t->redis->set('ir:maintenance', 'on');
like(log_like($mark, qr/could not be read/),
     qr/\[error\].*the maintenance "ir:maintenance" .*could not be read \(WRONGTYPE [^)]*\), so there is no maintenance; for WRONGTYPE, make it a hash with redis-cli/,
     'a string, not a hash: logged with Redis\'s words');
$t->allowed($t->get('/', %alice), 'and served');
$t->redis->del('ir:maintenance');

# it ends when until passes ----------------------------------------------

$mark = $t->log_mark;
my $soon = int(time) + 5;
maintenance(env => 'prod', until => iso($soon));
is($t->poll_status('/', 503, %alice), 503, 'a short maintenance');
$res = $t->get('/', %alice);
cmp_ok($res->{headers}{'retry-after'}, '<=', 5, 'Retry-After: a few seconds');
cmp_ok($res->{headers}{'retry-after'}, '>=', 1, 'at least one');
sleep($soon - time + 0.1) if $soon > time;
$t->allowed($t->get('/', %alice), 'until passed: open, without a read of Redis');
like(log_like($mark, qr/has ended/),
     qr/\[notice\].*the maintenance "ir:maintenance" .* has ended; delete it with redis-cli DEL/,
     'the end noticed, not logged as an error');
unlike($t->log_since($mark), qr/\[error\].*maintenance/, 'no error about it');
$t->redis->del('ir:maintenance');

# two gateways, one without notifications: each event once ----------------

my $t2 = $t->instance('b');
$t2->write_config(<<"CONF", workers => 1);
    ir_access_redis %%REDIS%%;
    ir_access_audit stream=ir:audit;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
$places
    }
CONF
$t2->start_nginx;
$t2->allowed($t2->get('/', %alice), 'the second gateway serves');

sleep 1.2;
$t->audit_reset;

$end = int(time) + 600;
maintenance(env => 'prod', until => iso($end), message => 'Back at noon');

is($t->poll_status('/', 503, %alice), 503, 'gateway 1 closed at once');
is($t2->poll_status('/', 503, %alice), 503,
   'gateway 2, without notifications, closed within a second');
sleep 1.2;

$t->redis->del('ir:maintenance');
is($t->poll_status('/', 200, %alice), 200, 'gateway 1 open again');
is($t2->poll_status('/', 200, %alice), 200, 'gateway 2 open again');
sleep 1.2;

my @ev;
for (1 .. 100) {
    @ev = grep { $_->{event} =~ /^maintenance_/ } $t->audit_entries(events => 1);
    last if @ev >= 2;
    sleep 0.05;
}
is(scalar(grep { $_->{event} eq 'maintenance_begin' } @ev), 1,
   'one maintenance_begin across the two gateways');
is(scalar(grep { $_->{event} eq 'maintenance_end' } @ev), 1,
   'one maintenance_end');
my ($begin) = grep { $_->{event} eq 'maintenance_begin' } @ev;
is_deeply([ @$begin{qw(until env message)} ], [ iso($end), 'prod', 'Back at noon' ],
          'the beginning says until when, where, and what it told clients');
my ($ended) = grep { $_->{event} eq 'maintenance_end' } @ev;
is_deeply([ @$ended{qw(until env)} ], [ iso($end), 'prod' ],
          'the end says which maintenance ended');
ok(!$t->redis->exists('ir:maintenance:announced'),
   'nothing is left announced');

$t2->stop_nginx;
$t2->check_log;

# a gateway whose Redis user may not read the maintenance says so, in
# Redis's words, and stays open

$t->redis->acl('SETUSER', 'ir-nomaint', 'on', '>nomaint', '~ir:user:*',
               '~ir:org:*', '~ir:audit', '~ir:quota:*', '+@all');
my $t3 = $t->instance('c');
$t3->write_config(<<"CONF", workers => 1);
    ir_access_redis %%REDIS%% user=ir-nomaint password=nomaint;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
$places
    }
CONF
$t3->expect_error(qr/ir_access: the maintenance "ir:maintenance" .*could not be read \(NOPERM [^)]*\), so there is no maintenance; /,
                  qr/ir_access: Redis refused to read "ir:maintenance:announced": NOPERM /);
$mark = $t3->log_mark;
$t3->start_nginx;
maintenance(env => 'prod', until => iso(int(time) + 600), message => 'x');
ok($t->wait_for(sub { $t3->log_since($mark) =~ /could not be read \(NOPERM [^)]*\), so there is no maintenance; .*for NOPERM, let the gateway's Redis user read it/ }),
   'no permission to read the maintenance: logged with Redis\'s words');
$t3->allowed($t3->get('/', %alice), 'and served');
$t->redis->del('ir:maintenance');
$t3->stop_nginx;
$t3->check_log;

# one that may read the maintenance but not what was announced closes
# the places all the same, and says why it announces nothing

$t->redis->acl('SETUSER', 'ir-noann', 'on', '>noann', '~ir:user:*',
               '~ir:org:*', '~ir:audit', '~ir:quota:*', '~ir:maintenance',
               '+@all');
my $t4 = $t->instance('d');
$t4->write_config(<<"CONF", workers => 1);
    ir_access_redis %%REDIS%% user=ir-noann password=noann;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
$places
    }
CONF
$t4->expect_error(qr/ir_access: Redis refused to read "ir:maintenance:announced": NOPERM /);
$mark = $t4->log_mark;
$t4->start_nginx;
maintenance(env => 'prod', until => iso(int(time) + 600), message => 'x');
is($t4->poll_status('/', 503, %alice), 503,
   'the announced key refused: the maintenance closes all the same');
ok($t->wait_for(sub { $t4->log_since($mark) =~ /Redis refused to read "ir:maintenance:announced": NOPERM .*the maintenance applies/ }),
   'and why nothing is announced is logged');
$t->redis->del('ir:maintenance');
$t4->stop_nginx;
$t4->check_log;

# Redis busy with a script while a maintenance is on: the maintenance
# stays in effect for users answered from the cache, and is read again
# once Redis is free

my $t5 = $t->instance('e');
$t5->write_config(<<"CONF", workers => 1);
    ir_access_redis %%REDIS%%;
    ir_access_cache zone=ir:1m ttl=1h;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
$places
    }
CONF
$t5->start_nginx;
$t5->allowed($t5->get('/', %alice), 'alice in the cache');
maintenance(env => 'prod', until => iso(int(time) + 600), message => 'x');
is($t5->poll_status('/', 503, %alice), 503, 'a maintenance closes');

my $r = $t->redis;
$r->config_set('busy-reply-threshold', 100);
my $port = $t->redis_port;
system("redis-cli -p $port EVAL 'while true do end' 0 >/dev/null 2>&1 &");
ok($t->wait_for(sub { !eval { $t->redis->get('x'); 1 } && $@ =~ /BUSY/ }),
   'Redis is busy with a script');

# longer than the gateway takes to read the maintenance again
sleep 2.5;
$res = $t5->get('/', %alice);
is($res->{status}, 503, 'while Redis is busy, the maintenance stays')
    or diag($res->{body});
like($res->{body}, qr/"error":"maintenance"/, 'as the maintenance');

system("redis-cli -p $port SCRIPT KILL >/dev/null 2>&1");
ok($t->wait_for(sub { eval { $t->redis->del('ir:maintenance'); 1 } }),
   'Redis free again, the maintenance deleted');
$t->redis->config_set('busy-reply-threshold', 5000);
is($t5->poll_status('/', 200, %alice), 200, 'and the place opens');
$t5->stop_nginx;
$t5->check_log;

$t->stop_nginx;
$t->check_log;

done_testing;
