#!/usr/bin/perl

# Passwords on top of certificates (step 6) and the lockout: every hash
# format, the challenge, counting, the lock at exactly N however the
# attempts are spread over workers and hosts, the one-command unlock, no
# counting from outside the allowlist, backend statuses, Redis outages.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Digest::SHA qw(sha1);
use MIME::Base64 qw(encode_base64);
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
            ir_access_realm "PMLP test";
            ir_access_lockout 3 window=1m;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /pw-nolock/ {
            ir_access_password on;
            ir_access_lockout off;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /pw5/ {
            ir_access_password on;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /pw-forget/ {
            ir_access_password on;
            ir_access_password_remember off;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /metrics {
            ir_access off;
            ir_access_status;
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

sub user_with {
    my ($name, $hash) = @_;
    $t->user($name, ips => ['10.0.0.0/8'], password => $hash);
}

sub fails { $r->get("ir:user:$_[0]:fails") }
sub status { $r->hget("ir:user:$_[0]", 'status') // '' }

my $salt = 'NaCl4321';
my %hashes = (
    'bcrypt $2y$'     => (split /:/, `htpasswd -nbB x secret`)[1],
    'bcrypt $2b$'     => crypt('secret', '$2b$05$abcdefghijklmnopqrstuu'),
    'sha512-crypt'    => `openssl passwd -6 secret`,
    'sha256-crypt'    => `openssl passwd -5 secret`,
    'yescrypt'        => crypt('secret', '$y$j9T$F5Jx5fExrKuPp53xLKQ..1$'),
    'apr1'            => `openssl passwd -apr1 secret`,
    '{SHA}'           => (split /:/, `htpasswd -nbs x secret`)[1],
    '{SSHA}'          => '{SSHA}' . encode_base64(sha1('secret' . $salt)
                                                  . $salt, ''),
    '{PLAIN}'         => '{PLAIN}secret',
);

my %in = (cert => 'alice', ip => '10.0.0.1');

for my $format (sort keys %hashes) {
    (my $hash = $hashes{$format}) =~ s/\s+$//;
    user_with('alice', $hash);

    $t->allowed($t->get('/pw/x', %in, user => 'alice:secret'),
                "$format: the right password");
    my $res = $t->get('/pw/x', %in, user => 'alice:Secret');
    $t->denied($res, 401, 'bad_password', "$format: a wrong password");
    $r->del('ir:user:alice:fails');
}

# a verified password is remembered for a while by each worker, never a
# wrong one, and never across a change of the stored hash

sub counter {
    my ($name) = @_;
    my ($n) = $t->get('/metrics')->{body} =~ /^\Q$name\E (\d+)$/m;
    return $n // 0;
}

(my $bcrypt = $hashes{'bcrypt $2y$'}) =~ s/\s+$//;
user_with('alice', $bcrypt);

my $hashed = counter('ir_access_passwords_hashed_total');
my $remembered = counter('ir_access_passwords_remembered_total');

$t->allowed($t->get('/pw/x', %in, user => 'alice:secret'), "login $_")
    for 1 .. 6;
cmp_ok(counter('ir_access_passwords_hashed_total') - $hashed, '<=', 2,
       'six logins: bcrypt ran at most once a worker');
cmp_ok(counter('ir_access_passwords_remembered_total') - $remembered, '>=', 4,
       'the others were remembered');

$hashed = counter('ir_access_passwords_hashed_total');
$t->denied($t->get('/pw/x', %in, user => 'alice:secreT'), 401,
           'bad_password', "wrong password $_") for 1 .. 2;
is(counter('ir_access_passwords_hashed_total') - $hashed, 2,
   'a wrong password is hashed every time');
$r->del('ir:user:alice:fails');

my $other = (split /[:\n]/, `htpasswd -nbB x other`)[1];
$r->hset('ir:user:alice', 'password', $other);
$t->denied($t->get('/pw/x', %in, user => 'alice:secret'), 401,
           'bad_password', 'a remembered password after the hash changed');
$t->allowed($t->get('/pw/x', %in, user => 'alice:other'),
            'the new password');
$r->del('ir:user:alice:fails');

$hashed = counter('ir_access_passwords_hashed_total');
$t->allowed($t->get('/pw-forget/x', %in, user => 'alice:other'),
            "remember off: login $_") for 1 .. 3;
is(counter('ir_access_passwords_hashed_total') - $hashed, 3,
   'remember off: every login hashed');

user_with('alice', $bcrypt);

# the challenge, and a missing password

my $res = $t->get('/pw/x', %in);
$t->denied($res, 401, 'password_required', 'no Authorization header');
is($res->{headers}{'www-authenticate'}, 'Basic realm="PMLP test"',
   'the challenge names the realm');
is(fails('alice'), undef, 'a missing password is not counted');

$res = $t->get('/pw/x', %in, user => 'alice:wrong');
is($res->{headers}{'www-authenticate'}, 'Basic realm="PMLP test"',
   'a wrong password is challenged again');
$r->del('ir:user:alice:fails');

$t->denied($t->get('/pw/x', %in, headers => ['Authorization: Bearer x']),
           401, 'password_required', 'not Basic credentials');
$t->denied($t->get('/pw/x', %in, headers => ['Authorization: Basic %%%']),
           401, 'password_required', 'undecodable Basic credentials');

# the user part must be the certificate's identity

user_with('bob', $hashes{'{SHA}'});
$t->denied($t->get('/pw/x', %in, user => 'bob:secret'),
           401, 'bad_password', 'another user\'s name and password');
is(fails('alice'), 1, 'a wrong user part counts against the certificate');

# the counter, and its reset on success

$t->get('/pw/x', %in, user => 'alice:wrong');
is(fails('alice'), 2, 'two failures counted');
ok($r->pttl('ir:user:alice:fails') > 50_000, 'the counter expires with '
   . 'the window');
$t->allowed($t->get('/pw/x', %in, user => 'alice:secret'),
            'the right password after failures');
is(fails('alice'), undef, 'a successful login resets the counter');

# a counter that a typo made a hash, or words: a login repairs it

$r->hset('ir:user:alice:fails', 'n', 3);
$t->allowed($t->get('/pw/x', %in, user => 'alice:secret'),
            'a counter of the wrong type does not lock anyone');
is($r->exists('ir:user:alice:fails'), 0, 'and a login deletes it');

$r->hset('ir:user:alice:fails', 'n', 3);
$t->denied($t->get('/pw/x', %in, user => 'alice:wrong'), 401,
           'bad_password', 'a wrong password over a counter of the wrong type');
is(fails('alice'), 1, 'starts a new count');

$r->set('ir:user:alice:fails', 'three');
$t->allowed($t->get('/pw/x', %in, user => 'alice:secret'),
            'a counter that is no number');
is(fails('alice'), undef, 'is deleted by a login too');

# the lock at exactly N

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
     qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'locked_at is set');
like($r->hget('ir:user:alice', 'lock_reason') // '',
     qr/3 failed logins \(wrong password\)/, 'lock_reason is set');
is(fails('alice'), undef, 'the counter is deleted with the lock');
like($t->log_since($mark),
     qr/\[warn\].*user "alice" locked after 3 failed logins; unlock with: redis-cli HSET ir:user:alice status active/,
     'the lock is logged at warn with the command to undo it');

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

# a password-less record is refused, not counted

$t->user('carol', ips => ['10.0.0.0/8']);
$mark = $t->log_mark;
$t->denied($t->get('/pw/x', cert => 'carol', ip => '10.0.0.1',
                   user => 'carol:anything'),
           401, 'bad_password', 'a user without a password field');
is(fails('carol'), undef, 'an admin\'s omission is not counted');
like($t->log_since($mark), qr/user "carol" has no "password" field/,
     'and is logged');

# lockout off

user_with('carol', $hashes{'{SHA}'});
$t->get('/pw-nolock/x', cert => 'carol', ip => '10.0.0.1',
        user => 'carol:wrong') for 1 .. 4;
is(fails('carol'), undef, 'lockout off: nothing counted');
is(status('carol'), '', 'lockout off: no lock');
is($t->get('/pw-nolock/x', cert => 'carol', ip => '10.0.0.1')
       ->{headers}{'www-authenticate'},
   'Basic realm="ir-access"', 'the default realm');

# the default lockout: five failures
$t->get('/pw5/x', cert => 'carol', ip => '10.0.0.1', user => 'carol:wrong')
    for 1 .. 4;
is(status('carol'), '', 'default lockout: not locked after four');
$t->get('/pw5/x', cert => 'carol', ip => '10.0.0.1', user => 'carol:wrong');
is(status('carol'), 'locked', 'default lockout: locked at five');
$r->hset('ir:user:carol', 'status', 'active');

# forty concurrent wrong passwords on two workers: one lock, no counter left

user_with('dave', $hashes{'bcrypt $2y$'});
$mark = $t->log_mark;

my @bg = map {
    $t->start_get('/pw5/x', cert => 'dave', ip => '10.0.0.1',
                  user => 'dave:wrong')
} 1 .. 40;
my @got = map { $t->collect($_) } @bg;

is(scalar(grep { $_->{status} == 401 || $_->{status} == 403 } @got), 40,
   'forty concurrent attempts all refused');
is(status('dave'), 'locked', 'the user is locked');
is(fails('dave'), undef, 'no counter is left behind');
my @locks = $t->log_since($mark) =~ /user "dave" locked after/g;
is(scalar @locks, 1, 'locked exactly once');

# the same across two nginx hosts sharing one Redis

my $t2 = $t->instance('b');
my $auth2 = IrTest::free_port();
(my $http2 = $http) =~ s/listen 127\.0\.0\.1:$auth;/listen 127.0.0.1:$auth2;/;
$t2->write_config($http2, workers => 2);
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

is(scalar(grep { $_->{status} == 401 || $_->{status} == 403 } @got), 40,
   'two hosts: forty concurrent attempts all refused');
is(status('dave'), 'locked', 'two hosts: the user is locked');
is(fails('dave'), undef, 'two hosts: no counter is left behind');
@locks = ($t->log_since($mark) . $t2->log_since($mark2))
         =~ /user "dave" locked after/g;
is(scalar @locks, 1, 'two hosts: locked exactly once');

$t2->stop_nginx;
$t2->check_log;

# a backend that authenticates by itself

$t->user('bob', ips => ['10.0.0.0/8']);
my %bob = (cert => 'bob', ip => '10.0.0.1');

is($t->get('/self-auth/deny', %bob)->{status}, 401, 'the backend refuses');
is($t->get('/self-auth/deny', %bob)->{status}, 401, 'and again');

my $n;
for (1 .. 50) { $n = fails('bob') // 0; last if $n == 2; sleep 0.05 }
is($n, 2, 'backend refusals are counted');

is($t->get('/self-auth/ok', %bob)->{status}, 200, 'the backend accepts');
for (1 .. 50) { last unless defined fails('bob'); sleep 0.05 }
is(fails('bob'), undef, 'a 2xx from the backend resets the counter');

$t->get('/self-auth/deny', %bob) for 1 .. 3;
for (1 .. 50) { last if status('bob') eq 'locked'; sleep 0.05 }
is(status('bob'), 'locked', 'three backend refusals lock the user');
like($r->hget('ir:user:bob', 'lock_reason') // '', qr/backend refused/,
     'the lock names its cause');
$t->denied($t->get('/self-auth/ok', %bob), 403, 'account_locked',
           'the locked user is refused before the backend');

# Redis stopped mid-sequence: nothing counted, nothing corrupted

user_with('alice', $hashes{'{SHA}'});
$t->get('/pw/x', %in, user => 'alice:wrong') for 1 .. 2;
is(fails('alice'), 2, 'two failures before the outage');

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
