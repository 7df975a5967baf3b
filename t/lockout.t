#!/usr/bin/perl

# The lockout: wrong passwords are counted within the window and a
# success resets the count; a counter an admin's typo spoiled is
# repaired; the lock comes at exactly N, with its fields, its log line
# and the command that undoes it, and holds against the right password;
# attempts from outside the allowlist count nothing, nor does a dry run;
# "ir_access_lockout off" counts nothing and the default locks at five;
# forty concurrent wrong passwords on two workers, and on two nginx hosts
# sharing one Redis, lock exactly once and leave no counter; a backend's own
# refusals (ir_access_lockout_status) count, its 2xx does not reset; and
# Redis stopped mid-sequence counts nothing and loses nothing; a counter
# INCR refuses (" 1") is counted on.  The races of many parallel guesses
# are lockout_race.t's.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep);
use IrTest;

my $t = IrTest->new;

$t->start_redis;
$t->client_cert($_) for qw(alice bob carol dave);

my $auth = IrTest::free_port();

my $http = <<"CONF";
    ir_access_redis %%REDIS%%;

    server {
        listen 127.0.0.1:$auth;
        location /deny { return 401; }
        location /ok { return 200 "welcome"; }
    }

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        ir_access on;

        location /pw/ {
            ir_access_password on;
            ir_access_lockout 3 window=1m;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /pw-nolock/ {
            ir_access_password on;
            ir_access_lockout off;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /pw-dry/ {
            ir_access_mode dry_run;
            ir_access_password on;
            ir_access_lockout 3 window=1m;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /pw5/ {
            ir_access_password on;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /self-auth/ {
            # a backend that checks passwords itself
            ir_access_lockout 3;
            ir_access_lockout_status 401 403;
            proxy_pass http://127.0.0.1:$auth/;
        }
    }
CONF

$t->write_config($http, workers => 2);
$t->start_nginx;

my $r = $t->redis;

$t->org('bank', name => 'Test Bank');

my $sha = (split /[:\n]/, `htpasswd -nbs x secret`)[1];
my $bcrypt = (split /[:\n]/, `htpasswd -nbB x secret`)[1];

sub user_with {
    my ($name, $hash) = @_;
    $t->user($name, ips => ['10.0.0.0/8'], password => $hash);
}

sub fails { $r->get("ir:user:$_[0]:fails") }
sub status { $r->hget("ir:user:$_[0]", 'status') // '' }

# A good login's answer does not wait for the reset of the counter: it
# is seen in Redis shortly after.
sub reset_seen {
    my ($name) = @_;
    return $t->wait_for(sub { !$r->exists("ir:user:$name:fails") }, 2);
}

user_with('alice', $sha);

my %in = (cert => 'alice', ip => '10.0.0.1');

# the counter, and its reset on success

$t->denied($t->get('/pw/x', %in, user => 'alice:wrong'), 401,
           'bad_password', 'a first failure');
is(fails('alice'), 1, 'one failure counted');
my $pttl = $r->pttl('ir:user:alice:fails');
ok($pttl > 50_000 && $pttl <= 60_000, 'the first failure starts the '
   . "window of 1m: $pttl ms left");
$t->get('/pw/x', %in, user => 'alice:wrong');
is(fails('alice'), 2, 'two failures counted');
$pttl = $r->pttl('ir:user:alice:fails');
ok($pttl > 50_000 && $pttl <= 60_000, 'the counter expires with the '
   . "window of 1m: $pttl ms left");
$t->allowed($t->get('/pw/x', %in, user => 'alice:secret'),
            'the right password after failures');
ok(reset_seen('alice'), 'a successful login resets the counter');

# a counter that a typo made a hash, or words: a login repairs it

$r->hset('ir:user:alice:fails', 'n', 3);
$t->allowed($t->get('/pw/x', %in, user => 'alice:secret'),
            'a counter of the wrong type does not lock anyone');
ok(reset_seen('alice'), 'and a login deletes it');

$r->hset('ir:user:alice:fails', 'n', 3);
$t->denied($t->get('/pw/x', %in, user => 'alice:wrong'), 401,
           'bad_password', 'a wrong password over a counter of the wrong type');
is(fails('alice'), 1, 'starts a new count');

$r->set('ir:user:alice:fails', 'three');
$t->allowed($t->get('/pw/x', %in, user => 'alice:secret'),
            'a counter that is no number');
ok(reset_seen('alice'), 'is deleted by a login too');

# a counter that Lua reads as a number and INCR refuses (" 1", "1e0"):
# written again as INCR reads it, its count kept, so that the wrong
# passwords it lets be compared still lead to the lock

$t->expect_error(qr/ir_access: user "alice" locked after 3 failed logins; /);

for my $spoiled (' 1', '1e0') {
    $r->set('ir:user:alice:fails', $spoiled);
    $t->get('/pw/x', %in, user => 'alice:wrong') for 1 .. 2;
    is(status('alice'), 'locked', "a counter of \"$spoiled\": counted on, "
       . 'the second wrong password locks');
    isnt($t->get('/pw/x', %in, user => 'alice:secret')->{status}, 200,
         'and the right one is not let in');

    $r->hdel('ir:user:alice', 'status', 'locked_at', 'lock_reason');
    $r->del('ir:user:alice:fails');
}

# the lock at exactly N

$t->expect_error(qr/ir_access: user "alice" locked after 3 failed logins; /);
my $mark = $t->log_mark;
for my $n (1 .. 2) {
    $t->denied($t->get('/pw/x', %in, user => 'alice:wrong'),
               401, 'bad_password', "failure $n of 3");
    is(status('alice'), '', "not locked after $n");
}
$t->denied($t->get('/pw/x', %in, user => 'alice:wrong'),
           401, 'bad_password', 'failure 3 of 3');
is(status('alice'), 'locked', 'locked at exactly 3');
like($r->hget('ir:user:alice', 'locked_at') // '',
     qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'locked_at is set');
like($r->hget('ir:user:alice', 'lock_reason') // '',
     qr/3 failed logins \(wrong password\)/, 'lock_reason is set');
is(fails('alice'), undef, 'the counter is deleted with the lock');
like($t->log_since($mark),
     qr/\[error\].*user "alice" locked after 3 failed logins; unlock with: redis-cli HSET ir:user:alice status active/,
     'the lock is logged at error, which the stock nginx.conf shows, with '
     . 'the command to undo it');

$t->denied($t->get('/pw/x', %in, user => 'alice:secret'),
           403, 'account_locked', 'locked: even the right password');
$t->denied($t->get('/pw/x', %in, user => 'alice:wrong'),
           403, 'account_locked', 'locked: a wrong one is not counted');
is(fails('alice'), undef, 'nothing counted while locked');

# the one-command unlock

$r->hset('ir:user:alice', 'status', 'active');
$t->allowed($t->get('/pw/x', %in, user => 'alice:secret'),
            'unlocked by HSET status active');

# no counting from outside the allowlist

for (1 .. 5) {
    $t->denied($t->get('/pw/x', cert => 'alice', ip => '192.0.2.1',
                       user => 'alice:wrong'),
               403, 'ip_not_allowed', 'wrong password from outside');
}
is(fails('alice'), undef, 'attempts from outside the allowlist count nothing');
is(status('alice'), 'active', 'and cannot lock the user out');

# a dry run says what it would do, and counts and locks nothing

for (1 .. 4) {
    $t->allowed($t->get('/pw-dry/x', %in, user => 'alice:wrong'),
                "dry run: wrong password $_ let through");
}
is(fails('alice'), undef, 'dry run: no failure counted');
is(status('alice'), 'active', 'dry run: nobody locked out');

# lockout off

user_with('carol', $sha);
$t->denied($t->get('/pw-nolock/x', cert => 'carol', ip => '10.0.0.1',
                   user => 'carol:wrong'),
           401, 'bad_password', "lockout off: wrong password $_") for 1 .. 4;
is(fails('carol'), undef, 'lockout off: nothing counted');
is(status('carol'), '', 'lockout off: no lock');

# the default lockout: five failures

$t->expect_error(qr/ir_access: user "carol" locked after 5 failed logins; /);
$t->denied($t->get('/pw5/x', cert => 'carol', ip => '10.0.0.1',
                   user => 'carol:wrong'),
           401, 'bad_password', "default lockout: failure $_") for 1 .. 4;
is(status('carol'), '', 'default lockout: not locked after four');
is(fails('carol'), 4, 'default lockout: four counted');
$t->denied($t->get('/pw5/x', cert => 'carol', ip => '10.0.0.1',
                   user => 'carol:wrong'),
           401, 'bad_password', 'default lockout: failure 5');
is(status('carol'), 'locked', 'default lockout: locked at five');
$r->hset('ir:user:carol', 'status', 'active');

# forty concurrent wrong passwords on two workers: one lock, no counter left

user_with('dave', $bcrypt);
$t->expect_error(qr/ir_access: user "dave" locked after 5 failed logins; /);
$mark = $t->log_mark;

my @bg = map {
    $t->start_get('/pw5/x', cert => 'dave', ip => '10.0.0.1',
                  user => 'dave:wrong')
} 1 .. 40;
my @got = map { $t->collect($_) } @bg;

sub refusals {
    my %by;
    for my $x (@_) {
        my ($reason) = $x->{body} =~ /"error":"(\w+)"/;
        $by{"$x->{status} " . ($reason // '?')}++;
    }
    return \%by;
}

my $by = refusals(@got);
is($by->{'401 bad_password'}, 5, 'five of forty concurrent attempts '
   . 'compared and refused') or diag(explain $by);
is($by->{'401 bad_password'} + ($by->{'403 account_locked'} // 0), 40,
   'the others refused as locked') or diag(explain $by);
is(status('dave'), 'locked', 'the user is locked');
is(fails('dave'), undef, 'no counter is left behind');
my @locks = $t->log_since($mark) =~ /user "dave" locked after/g;
is(scalar @locks, 1, 'locked exactly once');

# the same across two nginx hosts sharing one Redis

my $t2 = $t->instance('b');
my $auth2 = IrTest::free_port();
(my $http2 = $http) =~ s/listen 127\.0\.0\.1:$auth;/listen 127.0.0.1:$auth2;/;
$t2->write_config($http2, workers => 2);
$t2->expect_error(qr/ir_access: user "dave" locked after 5 failed logins; /);
$t2->start_nginx;

$r->hset('ir:user:dave', 'status', 'active');
$r->hdel('ir:user:dave', 'locked_at', 'lock_reason');

my $mark2 = $t2->log_mark;
$mark = $t->log_mark;

@bg = map {
    ($_ % 2 ? $t : $t2)->start_get('/pw5/x', cert => 'dave',
                                   ip => '10.0.0.1', user => 'dave:wrong')
} 1 .. 40;
@got = map { $t->collect($_) } @bg;

$by = refusals(@got);
is($by->{'401 bad_password'}, 5, 'two hosts: five of forty concurrent '
   . 'attempts compared and refused') or diag(explain $by);
is($by->{'401 bad_password'} + ($by->{'403 account_locked'} // 0), 40,
   'two hosts: the others refused as locked') or diag(explain $by);
is(status('dave'), 'locked', 'two hosts: the user is locked');
is(fails('dave'), undef, 'two hosts: no counter is left behind');
@locks = ($t->log_since($mark) . $t2->log_since($mark2))
         =~ /user "dave" locked after/g;
is(scalar @locks, 1, 'two hosts: locked exactly once');

$t2->stop_nginx;
$t2->check_log;

# a backend that authenticates by itself

$t->expect_error(qr/ir_access: user "bob" locked after 3 failed logins; /);

$t->user('bob', ips => ['10.0.0.0/8']);
my %bob = (cert => 'bob', ip => '10.0.0.1');

is($t->get('/self-auth/deny', %bob)->{status}, 401, 'the backend refuses');
is($t->get('/self-auth/deny', %bob)->{status}, 401, 'and again');

my $n;
for (1 .. 50) { $n = fails('bob') // 0; last if $n == 2; sleep 0.05 }
is($n, 2, 'backend refusals are counted');

# only the module's own password check resets the counter: a 2xx from
# the backend, which any unauthenticated endpoint could answer, does not

is($t->get('/self-auth/ok', %bob)->{status}, 200, 'the backend accepts');
sleep 0.3;
is(fails('bob'), 2, 'a 2xx from the backend does not reset the counter');

$t->get('/self-auth/deny', %bob);
for (1 .. 50) { last if status('bob') eq 'locked'; sleep 0.05 }
is(status('bob'), 'locked', 'the third backend refusal locks the user, '
   . 'the 2xx between them notwithstanding');
like($r->hget('ir:user:bob', 'lock_reason') // '', qr/backend refused/,
     'the lock names its cause');
$t->denied($t->get('/self-auth/ok', %bob), 403, 'account_locked',
           'the locked user is refused before the backend');

# Redis stopped mid-sequence: nothing counted, nothing corrupted

user_with('alice', $sha);
$t->get('/pw/x', %in, user => 'alice:wrong') for 1 .. 2;
is(fails('alice'), 2, 'two failures before the outage');

$t->expect_redis_down;
$r->save;
$t->stop_redis;

$mark = $t->log_mark;
$t->denied($t->get('/pw/x', %in, user => 'alice:wrong'),
           503, 'store_unavailable', 'a login while Redis is down');

$t->start_redis;
$r = $t->redis;

is(fails('alice'), 2, 'the outage counted nothing and lost nothing');
is($t->poll_status('/pw/x', 401, %in, user => 'alice:wrong'), 401,
   'the third failure after Redis is back');
is(status('alice'), 'locked', 'locked at exactly 3 across the outage');

$t->stop_nginx;
$t->check_log;

done_testing;
