#!/usr/bin/perl

# The shared cache: hits ask Redis nothing, the ttl, negative entries,
# stale decisions during an outage and their end after ttl + stale, the
# cache kept across a reload, passwords and the lockout through the cache
# (the counts and the lock the module writes are seen at once, a login
# that cannot be counted while Redis is down is refused), one lookup for
# many parallel requests of one uncached user, and eviction when the
# zone is full.  Invalidation by keyspace notifications is notify.t's.

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

# lookups: EVALSHA, and EVAL for a script Redis did not know; the count
# of expiring certificates is an EVAL too, and is no lookup
sub evalsha_calls {
    my %info = %{ $t->redis->info('commandstats') };
    my ($n) = ($info{cmdstat_evalsha} // '') =~ /calls=(\d+)/;
    return $n // 0;
}

# bob's record edited, and the host notified of it: the worker's debug
# line says so; at another level, a second is let pass

sub edit_bob {
    my ($unit) = @_;
    my $mark = $t->log_mark;

    $t->redis->hset('ir:user:bob', 'unit', $unit);

    if (IrTest::log_level() ne 'debug') {
        sleep 1;
        return;
    }

    for (1 .. 100) {
        return if $t->log_since($mark) =~ /ir_access: notified of user "bob"/;
        sleep 0.05;
    }

    fail("the host notified of bob's unit \"$unit\"");
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
ok(defined $t->time_to_status('/', 403, %alice), 'after ttl the change shows');
$t->denied($t->get('/', %alice), 403, 'account_locked', 'as the lock');
$t->redis->hset('ir:user:alice', 'status', 'active');

# negative entries

$t->denied($t->get('/', cert => 'newbie', ip => '10.0.0.1'),
           403, 'unknown_user', 'an unknown user');
$before = evalsha_calls();
$t->denied($t->get('/', cert => 'newbie', ip => '10.0.0.1'),
           403, 'unknown_user', 'an unknown user again');
is(evalsha_calls(), $before, 'the unknown user is cached too');

# stale decisions during an outage, and their end

ok(defined $t->time_to_status('/', 200, %alice), 'alice allowed again');
$t->allowed($t->get('/', cert => 'bob', ip => '10.0.0.1'), 'bob cached');

$t->expect_redis_down;
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

# the cache survives a reload: an entry read before it decides after it

$t->write_config(config('zone=ir:1m ttl=1h stale=3s'), workers => 2);
$t->reload_nginx;
sleep 1;
provision();
ok(defined $t->time_to_status('/', 200, %alice), 'alice cached before the reload');
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
$t->denied($t->get('/', %carol, user => 'carol:wrong'), 401, 'bad_password',
           "cached: a wrong password $_") for 1 .. 2;
is($t->redis->get('ir:user:carol:fails'), 2, 'cached: failures counted');
$t->allowed($t->get('/', %carol, user => 'carol:secret'),
            'cached: the right password again');
ok($t->wait_for(sub { !$t->redis->exists('ir:user:carol:fails') }, 2),
   'cached: the counter reset, though the record was cached with none');
$t->expect_error(qr/ir_access: user "carol" locked after 3 failed logins; /);
$t->denied($t->get('/', %carol, user => 'carol:wrong'), 401, 'bad_password',
           "cached: a wrong password, $_ of 3") for 1 .. 3;
is($t->redis->hget('ir:user:carol', 'status'), 'locked', 'cached: locked');
$t->denied($t->get('/', %carol, user => 'carol:secret'), 403,
           'account_locked', 'cached: the lock is seen at once');
$t->redis->hset('ir:user:carol', 'status', 'active');
ok(defined $t->time_to_status('/', 200, %carol, user => 'carol:secret'),
   'cached: the unlock is seen at once');

# Redis down during a login: a password that is to be counted cannot be
# compared, since its failure could not be counted: fail closed, and say so

# (a good login drops the cached record, as it resets the count: a
# request without a password caches it again)
$t->denied($t->get('/', %carol), 401, 'password_required',
           'carol cached, without a password');

$t->expect_error(qr/\*\d+ ir_access: a login of user "carol" could not be reserved: Redis is unavailable, /);
$t->redis->save;
$t->stop_redis;

$mark = $t->log_mark;
$t->denied($t->get('/', %carol, user => 'carol:wrong'), 503,
           'store_unavailable', 'Redis down: a password that cannot be '
           . 'counted is not compared');
like($t->log_since($mark),
     qr/a login of user "carol" could not be reserved: Redis is unavailable/,
     'Redis down: the refusal is logged with its cause');

$t->start_redis(notify => 'KA');
is($t->redis->get('ir:user:carol:fails'), undef,
   'Redis back: nothing was counted meanwhile');
is($t->redis->hget('ir:user:carol', 'status'), 'active',
   'Redis back: the record is intact');
$t->write_config(config('zone=ir:1m ttl=1h stale=3s', 1), workers => 2);
$t->reload_nginx;
sleep 1;

# one lookup for many parallel requests of one uncached user

# a lookup first, so that Redis knows the script (EVALSHA, no NOSCRIPT);
# each edit's notification is waited for, since one that came in the
# middle would rightly make a second lookup

edit_bob('warm');
$t->get('/', cert => 'bob', ip => '10.0.0.1');

edit_bob('fresh');
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
