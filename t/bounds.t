#!/usr/bin/perl

# What a client or an administrator's typo can put in front of the module
# or into Redis stays within bounds: control characters never reach the
# backend's headers or the log as they are; names have one limit;
# a swollen hash is refused without being read; a password with a NUL
# byte is not cut short; a password field that is no hash counts nothing;
# and an audit entry keeps only so much of a client's URI.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use MIME::Base64 qw(encode_base64);
use Test::More;
use Time::HiRes qw(sleep);
use IrTest;

my $t = IrTest->new;

$t->start_redis;
$t->client_cert($_) for qw(alice bob carol dave);
$t->client_cert('newline', subj => "/CN=ali\nce/O=x");

$t->write_config(<<'CONF');
    ir_access_redis %%REDIS%%;
    ir_access_audit stream=ir:audit uri_max=100;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        ir_access on;

        location / {
            proxy_set_header X-IR-User $ir_access_user;
            proxy_set_header X-IR-Org $ir_access_org;
            proxy_set_header X-IR-Unit $ir_access_unit;
            proxy_set_header X-IR-Contract $ir_access_contract;
            proxy_set_header X-IR-Scopes $ir_access_scopes;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /pw/ {
            ir_access_password on;
            ir_access_lockout 3;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }
    }
CONF

$t->start_nginx;

my $r = $t->redis;

$t->org('bank', name => 'Bank', contract => 'C-1',
        scopes => ['person.basic']);
$t->user($_, ips => ['10.0.0.0/8']) for qw(alice bob carol dave);

my %alice = (cert => 'alice', ip => '10.0.0.1');

$t->allowed($t->get('/x', %alice), 'a clean record');

# control characters in Redis values: a bad record, never a header

for my $case (
    [ 'user', 'ir:user:alice', 'unit', "loans\r\nX-Injected: yes" ],
    [ 'user', 'ir:user:alice', 'unit', "loans\nX-IR-User: root" ],
    [ 'user', 'ir:user:alice', 'scopes', "person.basic\x00" ],
    [ 'organisation', 'ir:org:bank', 'contract', "C-1\r\nX-Injected: yes" ],
    [ 'organisation', 'ir:org:bank', 'name', "Bank\x1b[31m" ],
    [ 'user', 'ir:user:alice', 'unit', "loans\x7f" ])
{
    my ($what, $key, $field, $value) = @$case;
    my $clean = $r->hget($key, $field);

    $t->expect_error(qr/ir_access: the record "\Q$key\E" is unusable: field "$field" holds a control character; /);
    $r->hset($key, $field, $value);
    my $mark = $t->log_mark;

    my $res = $t->get('/x', %alice);
    $t->denied($res, 403, 'bad_record', "a control character in the "
               . "${what}'s \"$field\"");
    unlike($res->{body}, qr/Injected|root/, '  and nothing reached the '
           . 'backend');
    like($t->log_since($mark),
         qr/the record "\Q$key\E" is unusable: field "$field" holds a control character/,
         '  logged with the key and the field');

    defined $clean ? $r->hset($key, $field, $clean) : $r->hdel($key, $field);
}

$t->expect_error(qr/ir_access: ignoring a member of Redis key "ir:org:bank:scopes" that is empty, over-long or holds a control character/);
$r->sadd('ir:org:bank:scopes', "person.address\r\nX-Injected: yes");
my $res = $t->get('/x', %alice);
$t->allowed($res, 'a scope with a control character is ignored');
unlike($res->{body}, qr/Injected/, '  and never reaches the backend');
$r->srem('ir:org:bank:scopes', "person.address\r\nX-Injected: yes");

# control characters from the client never reach the log as they are

my $mark = $t->log_mark;
$t->denied($t->get('/x', cert => 'newline', ip => '10.0.0.1'), 403,
           'bad_identity', 'a CN with a line feed');
my $log = $t->log_since($mark);
like($log, qr/CN "ali\\x0ace" is not a valid user name/,
     'the CN is logged escaped');
unlike($log, qr/ali\nce/, 'and not as it is');

$t->user('alice', ips => ['10.0.0.0/8'], password => '{PLAIN}secret');
$mark = $t->log_mark;
my $basic = encode_base64("ali\r\nce:secret", '');
$t->denied($t->get('/pw/x', %alice, headers => ["Authorization: Basic $basic"]),
           401, 'bad_password', 'a Basic user name with CR LF');
$log = $t->log_since($mark);
like($log, qr/Basic user "ali\\x0d\\x0ace" is not the certificate's identity/,
     'the Basic user is logged escaped');
unlike($log, qr/ali\r?\nce/, 'and not as it is');

# a NUL byte in the password: the whole value is compared

$r->del('ir:user:alice:fails');
$basic = encode_base64("alice:secret\x00junk", '');
$t->denied($t->get('/pw/x', %alice, headers => ["Authorization: Basic $basic"]),
           401, 'bad_password', 'a password with a NUL byte is not cut there');
is($r->get('ir:user:alice:fails'), 1, '  and counts as a wrong one');
$t->allowed($t->get('/pw/x', %alice, user => 'alice:secret'),
            'the password itself');

# a password field that is no hash: a bad record, nothing counted

for my $value ('secret', 'alice:$apr1$abc$def', '$9$unknown') {
    $t->user('bob', ips => ['10.0.0.0/8'], password => $value);
    $mark = $t->log_mark;
    $t->denied($t->get('/pw/x', cert => 'bob', ip => '10.0.0.1',
                       user => 'bob:secret'),
               403, 'bad_record', "a password field of \"$value\"");
    like($t->log_since($mark), qr/"password" is no hash the module knows/,
         '  logged as such');
}

$t->get('/pw/x', cert => 'bob', ip => '10.0.0.1', user => 'bob:x')
    for 1 .. 4;
is($r->get('ir:user:bob:fails'), undef, 'nothing counted for it');
is($r->hget('ir:user:bob', 'status'), undef, 'and nobody locked');

# names: one limit, and the alphabet of user names

# (a name with a colon is fetched before it is refused: "bank:scopes"
# reads the set ir:org:bank:scopes as an organisation's hash, and says so)
$t->expect_error(qr/ir_access: the record "ir:user:carol" is unusable: field "org" (is not a name of 1 to 64 letters|holds a control character)/,
                 qr/ir_access: Redis key "ir:org:bank:scopes" is a set, not a hash, and is ignored/);

for my $org ('o' x 65, 'bank:scopes', 'bank*', "bank\x00") {
    $t->user('carol', ips => ['10.0.0.0/8'], org => $org);
    $t->denied($t->get('/x', cert => 'carol', ip => '10.0.0.1'), 403,
               'bad_record', 'an organisation name of ' . length($org)
               . ' bytes: "' . ($org =~ s/[^ -~]/?/gr) . '"');
}

$t->org('o' x 64, name => 'Long');
$t->user('carol', ips => ['10.0.0.0/8'], org => 'o' x 64);
$t->allowed($t->get('/x', cert => 'carol', ip => '10.0.0.1'),
            'an organisation name of 64 bytes');

# a hash of a million fields is refused without being read: Redis is not
# stalled for the others

$t->expect_error(qr/ir_access: Redis key "ir:user:dave" is too large to be a record and is refused/,
                 qr/ir_access: the record "ir:user:dave" is unusable: it has more than 64 fields; /);
# (the script holds Redis for seconds: earlier entries are written first,
# and whatever nginx sends meanwhile Redis refuses as BUSY)
$t->audit_reset;
$t->expect_error(qr/ir_access: Redis refused an audit entry: BUSY Redis is busy running a script/);
$r->eval(<<'LUA', 1, 'ir:user:dave');
for i = 1, 1000 do
  local a = {}
  for j = 1, 1000 do
    a[#a + 1] = 'f' .. i .. '_' .. j
    a[#a + 1] = 'x'
  end
  redis.call('HSET', KEYS[1], unpack(a))
end
LUA
cmp_ok($r->hlen('ir:user:dave'), '>', 1_000_000,
       'a hash of a million fields');

my @bg = map { $t->start_get('/x', cert => 'dave', ip => '10.0.0.1') } 1 .. 3;
push @bg, $t->start_get('/x', %alice);
my @got = map { $t->collect($_) } @bg;

is(join(' ', map { $_->{status} } @got), '403 403 403 200',
   'refused as a bad record, and the others decided meanwhile');
like($got[0]{body}, qr/"error":"bad_record"/, 'the reason');

# the URI in an audit entry is capped, and marked where it was cut

$t->audit_reset;
$t->get('/x?' . ('q' x 7000));
my ($e) = $t->wait_audit(1);
is(length($e->{uri} // ''), 100, 'a 7 KB URI is kept to "uri_max" bytes');
is($e->{uri_cut}, length('/x?' . ('q' x 7000)),
   'and the entry says how long it was');

$t->audit_reset;
$t->get('/x?short');
($e) = $t->wait_audit(1);
is($e->{uri}, '/x?short', 'a short URI whole');
ok(!exists $e->{uri_cut}, 'and not marked');

$t->stop_nginx;
$t->check_log;

done_testing;
