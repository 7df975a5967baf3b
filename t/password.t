#!/usr/bin/perl

# Passwords on top of certificates (step 6): every hash format the module
# reads (bcrypt $2y$ and $2b$, yescrypt, sha512- and sha256-crypt, apr1,
# {SHA}, {SSHA}, {PLAIN}) takes the right password and refuses a wrong
# one; the challenge names the realm (or the default one); missing, not
# Basic or undecodable credentials are password_required and count
# nothing; the whole hash is compared, never only as much of it as the
# computed one has; the user part must be the certificate's identity, not
# a name that begins with it or that it begins with; a record without a
# password field is refused and counts nothing.  What a worker remembers
# is password_remember.t's, the lockout lockout.t's.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Digest::SHA qw(sha1);
use MIME::Base64 qw(encode_base64);
use Test::More;
use IrTest;

my $t = IrTest->new;

$t->start_redis;
$t->client_cert($_) for qw(alice bob carol);

$t->write_config(<<'CONF', workers => 2);
    ir_access_redis %%REDIS%%;

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

        location /pw-default/ {
            ir_access_password on;
            ir_access_lockout off;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }
    }
CONF
$t->start_nginx;

my $r = $t->redis;

$t->org('bank', name => 'Test Bank');

sub user_with {
    my ($name, $hash) = @_;
    $t->user($name, ips => ['10.0.0.0/8'], password => $hash);
}

sub fails { $r->get("ir:user:$_[0]:fails") }

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
s/\s+$// for values %hashes;

my %in = (cert => 'alice', ip => '10.0.0.1');

# every format: the right password, and a wrong one

for my $format (sort keys %hashes) {
    user_with('alice', $hashes{$format});

    $t->allowed($t->get('/pw/x', %in, user => 'alice:secret'),
                "$format: the right password");
    my $res = $t->get('/pw/x', %in, user => 'alice:Secret');
    $t->denied($res, 401, 'bad_password', "$format: a wrong password");
    is(fails('alice'), 1, "$format: the wrong one counted");
    $r->del('ir:user:alice:fails');
}

# the whole hash is compared, not as much of it as the computed one has:
# "s" is no "{PLAIN}secret"

user_with('alice', $hashes{'{PLAIN}'});
$t->denied($t->get('/pw/x', %in, user => 'alice:s'), 401, 'bad_password',
           'the beginning of a {PLAIN} password');
$t->denied($t->get('/pw/x', %in, user => 'alice:secre'), 401, 'bad_password',
           'all of it but its last letter');
$r->del('ir:user:alice:fails');

user_with('alice', $hashes{'{SHA}'});

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
is(fails('alice'), undef, 'credentials that are none count nothing');

$res = $t->get('/pw-default/x', %in);
$t->denied($res, 401, 'password_required', 'no password, default realm');
is($res->{headers}{'www-authenticate'}, 'Basic realm="ir-access"',
   'the default realm');

# the user part must be the certificate's identity

user_with('bob', $hashes{'{SHA}'});
$t->denied($t->get('/pw/x', %in, user => 'bob:secret'),
           401, 'bad_password', 'another user\'s name and password');
is(fails('alice'), 1, 'a wrong user part counts against the certificate');
is(fails('bob'), undef, 'and not against the user it names');
$r->del('ir:user:alice:fails');

user_with('alice', $hashes{'{SHA}'});
$t->denied($t->get('/pw/x', %in, user => 'alicex:secret'),
           401, 'bad_password', 'a user part that begins with the identity');
$t->denied($t->get('/pw/x', %in, user => 'alic:secret'),
           401, 'bad_password', 'a user part that the identity begins with');
$r->del('ir:user:alice:fails');

# a password-less record is refused, not counted

$t->user('carol', ips => ['10.0.0.0/8']);
my $mark = $t->log_mark;
$t->denied($t->get('/pw/x', cert => 'carol', ip => '10.0.0.1',
                   user => 'carol:anything'),
           401, 'bad_password', 'a user without a password field');
is(fails('carol'), undef, 'an admin\'s omission is not counted');
like($t->log_since($mark),
     qr/denied user "carol" .*user has no "password" field/,
     'and is logged');

$t->stop_nginx;
$t->check_log;

done_testing;
