#!/usr/bin/perl

# Redis keyspace notifications ("ir_access_redis_notify on"): an admin's
# edit of a user's status, allowlist or pins, or a user's deletion, and
# of an organisation's status, scopes or deletion, drops the cached
# record at once (each seen within 0.5 s, though the cache's ttl is an
# hour); a new user replaces a cached "unknown" at once; Redis that does
# not send notifications is reported with the command that fixes it; and
# a lost subscription makes every cached record stale until it is back,
# since edits made meanwhile are unknown: an edit Redis never told of is
# seen once the subscription is lost, and edits are followed again once
# it is back.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep time);
use IrTest;

my $t = IrTest->new;

$t->start_redis(notify => 'KA');
$t->client_cert($_) for qw(alice newbie);

sub provision {
    $t->org('bank', name => 'Bank', scopes => ['person.basic']);
    $t->user('alice', ips => ['10.0.0.0/8']);
}

my %alice = (cert => 'alice', ip => '10.0.0.1');

# notifications that Redis does not send are reported with the fix

$t->redis->config_set('notify-keyspace-events', '');

$t->write_config("ir_access_redis %%REDIS%%;\n"
                 . "ir_access_cache zone=ir:1m ttl=1h stale=3s;\n"
                 . "ir_access_redis_notify on;\n"
                 . IrTest->guarded_server('ir_access_scope person.basic;'),
                 workers => 2);

$t->expect_error(qr/ir_access: Redis's notify-keyspace-events is "", /);
$t->start_nginx;

ok($t->wait_for(sub { $t->error_log =~ /\[error\].*notify-keyspace-events is "", .*redis-cli CONFIG SET notify-keyspace-events KA/ }),
   'Redis without keyspace notifications: logged with how to enable them');

# with notifications: admin edits show at once

$t->redis->config_set('notify-keyspace-events', 'KA');
my $mark = $t->log_mark;
$t->reload_nginx;
ok($t->wait_for(sub { $t->log_since($mark)
                      =~ /following Redis keyspace notifications/ }),
   'Redis with keyspace notifications: followed');
provision();
ok(defined $t->time_to_status('/', 200, %alice), 'ready after the reload');

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
    ok(defined $t->time_to_status('/', 200, %alice), "$what: allowed before");
    $t->allowed($t->get('/', %alice), "$what: cached");

    $change->();
    my $took = $t->time_to_status('/', $status, %alice);
    ok(defined $took && $took < 0.5, "$what: the edit shows within 0.5 s")
        or diag("took " . ($took // 'over 1 s'));
    $t->denied($t->get('/', %alice), $status, $reason, "$what: decided");
}

provision();
$t->denied($t->get('/', cert => 'newbie', ip => '10.0.0.1'),
           403, 'unknown_user', 'a negative entry');
$t->user('newbie', ips => ['10.0.0.0/8']);
ok(defined $t->time_to_status('/', 200, cert => 'newbie', ip => '10.0.0.1'),
   'a new user replaces the negative entry at once');

# a lost subscription: what was cached may have missed edits

provision();
ok(defined $t->time_to_status('/', 200, %alice), 'alice allowed');
$t->allowed($t->get('/', %alice), 'and cached');

# an edit Redis does not tell of, as one made while the subscription was
# down would be
$t->redis->config_set('notify-keyspace-events', '');
$t->redis->hset('ir:user:alice', 'status', 'locked');
$t->redis->config_set('notify-keyspace-events', 'KA');

$t->allowed($t->get('/', %alice),
            'an edit nobody was told of: the cached record decides');

$t->expect_error(qr/ir_access: lost the connection to Redis at "\Q${\ $t->redis_addr }\E": Server closed the connection/);
$mark = $t->log_mark;
$t->redis->client_kill('TYPE', 'pubsub');

ok($t->wait_for(sub { $t->log_since($mark)
                      =~ /\[warn\].*lost the Redis notification subscription; cached records are refetched until it is back/ }),
   'the lost subscription is logged');
$t->denied($t->get('/', %alice), 403, 'account_locked',
           'the subscription lost: the record is fetched again');

ok($t->wait_for(sub { $t->log_since($mark)
                      =~ /Redis notification subscription is up; records cached while it was not are fetched again/ }),
   'the subscription is made again, and that is logged');

$t->redis->hset('ir:user:alice', 'status', 'active');
my $took = $t->time_to_status('/', 200, %alice);
ok(defined $took && $took < 0.5,
   'subscribed again: an edit shows within 0.5 s')
    or diag("took " . ($took // 'over 1 s'));

$t->stop_nginx;
$t->check_log;

done_testing;
