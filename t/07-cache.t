#!/usr/bin/perl

# The shared cache: hits, ttl, negative entries, invalidation by keyspace
# notifications on every key type, stale decisions during an outage and
# their end, eviction when the zone is full, the cache kept across a
# reload, and one lookup for many parallel requests of one uncached user.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep time);
use IrTest;

my $t = IrTest->new;

$t->start_redis(notify => 'KA');
$t->client_cert($_) for qw(alice bob carol newbie);

sub config {
    my ($cache, $notify) = @_;
    return "ir_access_redis %%REDIS%%;\n"
         . "ir_access_cache $cache;\n"
         . ($notify ? "ir_access_redis_notify on;\n" : '')
         . IrTest->guarded_server('ir_access_scope person.basic;');
}

sub provision {
    $t->org('bank', name => 'Bank', scopes => ['person.basic']);
    $t->user($_, ips => ['10.0.0.0/8']) for qw(alice bob carol);
}

sub evalsha_calls {
    my %info = %{ $t->redis->info('commandstats') };
    my ($n) = ($info{cmdstat_evalsha} // '') =~ /calls=(\d+)/;
    my ($m) = ($info{cmdstat_eval} // '') =~ /calls=(\d+)/;
    return ($n // 0) + ($m // 0);
}

# how soon a change shows, in polls of 10 ms
sub until_status {
    my ($want, %req) = @_;
    my $start = time;
    for (1 .. 100) {
        return time - $start if $t->get('/', %req)->{status} == $want;
        sleep 0.01;
    }
    return undef;
}

my %alice = (cert => 'alice', ip => '10.0.0.1');

# without notifications: the cache decides until its ttl runs out

$t->write_config(config('zone=ir:1m ttl=1500ms stale=3s'), workers => 2);
$t->start_nginx;
provision();

$t->allowed($t->get('/', %alice), 'first request fills the cache');
my $before = evalsha_calls();
$t->allowed($t->get('/', %alice), 'a hit') for 1 .. 5;
is(evalsha_calls(), $before, 'hits ask Redis nothing');

$t->redis->hset('ir:user:alice', 'status', 'locked');
$t->allowed($t->get('/', %alice), 'within ttl the cached record decides');
ok(defined until_status(403, %alice), 'after ttl the change shows');
$t->redis->hset('ir:user:alice', 'status', 'active');

# negative entries

$t->denied($t->get('/', cert => 'newbie', ip => '10.0.0.1'),
           403, 'unknown_user', 'an unknown user');
$before = evalsha_calls();
$t->denied($t->get('/', cert => 'newbie', ip => '10.0.0.1'),
           403, 'unknown_user', 'an unknown user again');
is(evalsha_calls(), $before, 'the unknown user is cached too');

# stale decisions during an outage, and their end

ok(defined until_status(200, %alice), 'alice allowed again');
$t->allowed($t->get('/', cert => 'bob', ip => '10.0.0.1'), 'bob cached');

$t->redis->save;
$t->stop_redis;
sleep 1.6;

my $mark = $t->log_mark;
$t->allowed($t->get('/', %alice), 'Redis down: a young entry still decides');
like($t->log_since($mark), qr/\[warn\].*deciding for user "alice" with cached data \d+ms old \(stale\)/,
     'the stale decision is logged');
$t->denied($t->get('/', cert => 'carol', ip => '10.0.0.1'),
           503, 'store_unavailable', 'Redis down: an uncached user');
$t->denied($t->get('/', %alice, ip => '192.0.2.1'),
           403, 'ip_not_allowed', 'Redis down: stale data still denies');

sleep 3.2;
$t->denied($t->get('/', %alice), 503, 'store_unavailable',
           'Redis down past ttl + stale: no decision from old data');

$t->start_redis(notify => 'KA');
is($t->poll_status('/', 200, %alice), 200, 'Redis back: decided again');

# notifications that Redis does not send are reported with the fix

$t->redis->config_set('notify-keyspace-events', '');
$mark = $t->log_mark;
$t->write_config(config('zone=ir:1m ttl=1h stale=3s', 1), workers => 2);
$t->reload_nginx;
sleep 1;
like($t->log_since($mark),
     qr/\[warn\].*notify-keyspace-events is "", .*redis-cli CONFIG SET notify-keyspace-events KA/,
     'Redis without keyspace notifications: logged with how to enable them');

# with notifications: admin edits show at once

$t->redis->config_set('notify-keyspace-events', 'KA');
$mark = $t->log_mark;
$t->reload_nginx;
sleep 1;
like($t->log_since($mark), qr/following Redis keyspace notifications/,
     'Redis with keyspace notifications: followed');
provision();
ok(defined until_status(200, %alice), 'ready after the reload');

my @changes = (
    [ 'user status',
      sub { $t->redis->hset('ir:user:alice', 'status', 'locked') },
      403, 'account_locked' ],
    [ 'user allowlist',
      sub { $t->redis->srem('ir:user:alice:ips', '10.0.0.0/8') },
      403, 'ip_not_allowed' ],
    [ 'user pins',
      sub { $t->redis->hset('ir:user:alice', 'cert', 'ab' x 32) },
      403, 'cert_mismatch' ],
    [ 'user deleted',
      sub { $t->redis->del('ir:user:alice') },
      403, 'unknown_user' ],
    [ 'organisation status',
      sub { $t->redis->hset('ir:org:bank', 'status', 'suspended') },
      403, 'org_suspended' ],
    [ 'organisation scopes',
      sub { $t->redis->srem('ir:org:bank:scopes', 'person.basic') },
      403, 'scope_denied' ],
    [ 'organisation deleted',
      sub { $t->redis->del('ir:org:bank') },
      403, 'org_unknown' ],
);

for my $c (@changes) {
    my ($what, $change, $status, $reason) = @$c;

    provision();
    ok(defined until_status(200, %alice), "$what: allowed before");
    $t->allowed($t->get('/', %alice), "$what: cached");

    $change->();
    my $took = until_status($status, %alice);
    ok(defined $took && $took < 0.5, "$what: the edit shows within 0.5 s")
        or diag("took " . ($took // 'over 1 s'));
    $t->denied($t->get('/', %alice), $status, $reason, "$what: decided");
}

provision();
$t->denied($t->get('/', cert => 'newbie', ip => '10.0.0.1'),
           403, 'unknown_user', 'a negative entry');
$t->user('newbie', ips => ['10.0.0.0/8']);
ok(defined until_status(200, cert => 'newbie', ip => '10.0.0.1'),
   'a new user replaces the negative entry at once');

# the cache survives a reload: an entry read before it decides after it

provision();
ok(defined until_status(200, %alice), 'alice cached before the reload');
$before = evalsha_calls();
$t->reload_nginx;
sleep 1;
$t->allowed($t->get('/', %alice), 'after the reload');
is(evalsha_calls(), $before, 'the entry came from the cache kept across '
   . 'the reload');

# passwords and the lockout through the cache: the counts and the lock
# the module writes are seen at once, even where a record is cached

$t->user('carol', ips => ['10.0.0.0/8'],
         password => (split /[:\n]/, `htpasswd -nbs carol secret`)[1]);
my %carol = (cert => 'carol', ip => '10.0.0.1');
$t->write_config(config('zone=ir:1m ttl=1h stale=3s', 1)
                 =~ s/ir_access_scope person.basic;/ir_access_password on; ir_access_lockout 3;/r,
                 workers => 2);
$t->reload_nginx;
sleep 1;
$t->allowed($t->get('/', %carol, user => 'carol:secret'),
            'cached: the right password');
$t->get('/', %carol, user => 'carol:wrong') for 1 .. 2;
is($t->redis->get('ir:user:carol:fails'), 2, 'cached: failures counted');
$t->allowed($t->get('/', %carol, user => 'carol:secret'),
            'cached: the right password again');
is($t->redis->get('ir:user:carol:fails'), undef,
   'cached: the counter reset, though the record was cached with none');
$t->get('/', %carol, user => 'carol:wrong') for 1 .. 3;
is($t->redis->hget('ir:user:carol', 'status'), 'locked', 'cached: locked');
$t->denied($t->get('/', %carol, user => 'carol:secret'), 403,
           'account_locked', 'cached: the lock is seen at once');
$t->redis->hset('ir:user:carol', 'status', 'active');
ok(defined until_status(200, %carol, user => 'carol:secret'),
   'cached: the unlock is seen at once');

# Redis down during a login: the cached record still checks the password,
# nothing is counted, and that is logged

$t->redis->save;
$t->stop_redis;

$t->allowed($t->get('/', %carol, user => 'carol:secret'),
            'Redis down: the right password, checked against the cache');
$mark = $t->log_mark;
$t->denied($t->get('/', %carol, user => 'carol:wrong'), 401, 'bad_password',
           'Redis down: a wrong password is still refused');
like($t->log_since($mark),
     qr/a failed login of user "carol" was not counted: Redis is unavailable/,
     'Redis down: the uncounted failure is logged');

$t->start_redis(notify => 'KA');
is($t->redis->get('ir:user:carol:fails'), undef,
   'Redis back: nothing was counted meanwhile');
is($t->redis->hget('ir:user:carol', 'status'), 'active',
   'Redis back: the record is intact');
$t->write_config(config('zone=ir:1m ttl=1h stale=3s', 1), workers => 2);
$t->reload_nginx;
sleep 1;

# one lookup for many parallel requests of one uncached user

# a lookup first, so that Redis knows the script (EVALSHA, no NOSCRIPT)
$t->redis->hset('ir:user:bob', 'unit', 'warm');
sleep 0.2;
$t->get('/', cert => 'bob', ip => '10.0.0.1');

$t->redis->hset('ir:user:bob', 'unit', 'fresh');
sleep 0.2;
$t->redis->config_resetstat;
$t->redis->client_pause(300);

my @bg = map {
    $t->start_get('/', cert => 'bob', ip => '10.0.0.1')
} 1 .. 30;
my @got = map { $t->collect($_) } @bg;

is(scalar(grep { $_->{status} == 200 } @got), 30,
   'thirty parallel requests of an uncached user, on two workers');
is(evalsha_calls(), 1, 'made one lookup');

# eviction: a zone too small for all users

$t->stop_nginx;
$t->check_log;

my $t2 = $t->instance('small');
$t2->write_config("ir_access_redis %%REDIS%%;\n"
                  . "ir_access_cache zone=small:32k ttl=1h;\n"
                  . IrTest->guarded_server(
                        # many users behind one certificate, for this test
                        'ir_access_identity $http_x_user;'),
                  workers => 1);
$t2->start_nginx;

my @users = map { "u$_" } 1 .. 300;
$t->client_cert('u1');
$t->user($_, ips => ['10.0.0.0/8'], cert => 'u1') for @users;

my %u1 = (cert => 'u1', ip => '10.0.0.1');
my $ok = 0;
for my $u (@users) {
    $ok++ if $t2->get('/', %u1, headers => ["X-User: $u"])->{status} == 200;
}
is($ok, 300, 'three hundred users through a zone that holds fewer');

$before = evalsha_calls();
$t2->get('/', %u1, headers => ['X-User: u300']);
is(evalsha_calls(), $before, 'the most recent user is still cached');
$t2->allowed($t2->get('/', %u1, headers => ['X-User: u1']),
             'the oldest user is looked up again');
is(evalsha_calls(), $before + 1, 'the oldest user had been evicted');

$t2->stop_nginx;
$t2->check_log;

done_testing;
