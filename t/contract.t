#!/usr/bin/perl

# Contracts: organisations, validity dates, environments, data scopes and
# the GeoIP country policy (steps 5, 7, 8 and 9), the order in which the
# steps decide, and garbage in the organisation's records.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use POSIX qw(strftime);
use Test::More;
use IrTest;

my $t = IrTest->new;

$t->start_redis;
$t->client_cert($_) for qw(alice ann tom olga);

my $geo = $t->write_mmdb('geo.mmdb', {
    '10.1.0.0/16'      => 'LV',
    '10.2.0.0/16'      => 'EE',
    '10.3.0.0/16'      => 'RU',
    '2001:db8:1::/48'  => 'LV',
    '2001:db8:3::/48'  => 'RU',
});

my $flat = $t->write_mmdb('flat.mmdb', {
    '10.1.0.0/16'      => 'LV',
    '10.3.0.0/16'      => 'RU',
}, flat => 1);

my $headers = join "\n", map {
    "            proxy_set_header X-IR-$_->[0] \$ir_access_$_->[1];"
} [User => 'user'], [Org => 'org'], [Unit => 'unit'],
  [Contract => 'contract'], [Scopes => 'scopes'], [Country => 'country'];

my $conf = <<"CONF";
    ir_access_redis %%REDIS%%;
    ir_access_geoip2 %%GEO%%;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        ir_access on;
        ir_access_env prod;

        location /persons/basic {
            ir_access_scope person.basic;
$headers
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /persons/full {
            ir_access_scope person.basic person.address;
$headers
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /test-env/ {
            ir_access_env test;
            ir_access_scope person.basic;
$headers
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /geo/ {
            ir_access_countries LV ee;
$headers
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /geo-unknown/ {
            ir_access_countries LV --;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }
    }
CONF

sub start {
    my ($db) = @_;
    (my $c = $conf) =~ s/%%GEO%%/$db/;
    $t->write_config($c);
}

start($geo);
$t->start_nginx;

my $today = strftime('%Y-%m-%d', localtime);
my $yesterday = strftime('%Y-%m-%d', localtime(time - 86400));
my $tomorrow = strftime('%Y-%m-%d', localtime(time + 86400));

my $r = $t->redis;

sub bank {
    $t->org('bank', name => 'Demo Bank', contract => 'C-1', status => 'active',
            env => 'prod', valid_from => '2020-01-01',
            valid_to => '2099-12-31',
            scopes => ['person.basic', 'person.address']);
}

bank();
$t->org('testco', name => 'Test Co', contract => 'T-9', env => 'test',
        scopes => ['person.basic']);

my @net = (ips => ['10.0.0.0/8', '2001:db8::/32']);
$t->user('alice', @net, unit => 'loans');
$t->user('ann', @net, scopes => 'person.basic');
$t->user('tom', @net, org => 'testco');
$t->user('olga', @net, org => 'nonexistent');

my %lv = (ip => '10.1.0.1');

# allowed, and what travels with the decision

$r = $t->get('/persons/full', cert => 'alice', %lv,
             headers => ['X-IR-Org: evil', 'X-IR-Scopes: everything']);
$t->allowed($r, 'alice reads full records');
like($r->{body}, qr/"user":"alice"/, 'the user travels');
like($r->{body}, qr/"org":"bank"/, 'the organisation travels, '
     . 'overwriting the client\'s header');
like($r->{body}, qr/"unit":"loans"/, 'the unit travels');
like($r->{body}, qr/"contract":"C-1"/, 'the contract travels');
like($r->{body}, qr/"country":"LV"/, 'the country travels');
my ($scopes) = $r->{body} =~ /"scopes":"([^"]*)"/;
is(join(' ', sort split ' ', $scopes // ''), 'person.address person.basic',
   'the effective grant travels, overwriting the client\'s header');

# step 9: scopes, narrowed by the user's field

$t->denied($t->get('/persons/full', cert => 'ann', %lv),
           403, 'scope_denied', 'a user narrowed to person.basic');
$r = $t->get('/persons/basic', cert => 'ann', %lv);
$t->allowed($r, 'the narrowed user within her grant');
like($r->{body}, qr/"scopes":"person\.basic"/, 'the narrowed grant');

$t->redis->srem('ir:org:bank:scopes', 'person.address');
$t->denied($t->get('/persons/full', cert => 'alice', %lv),
           403, 'scope_denied', 'a scope withdrawn from the organisation');
$t->redis->sadd('ir:org:bank:scopes', 'person.address');
$t->allowed($t->get('/persons/full', cert => 'alice', %lv),
            'the scope granted again');

# a scope is granted whole, by the organisation's set and by the user's
# field alike: "person.basic.limited" is no "person.basic" (nor is
# "person" one)

$t->redis->srem('ir:org:bank:scopes', 'person.basic');
$t->redis->sadd('ir:org:bank:scopes', 'person.basic.limited', 'person');
$t->denied($t->get('/persons/basic', cert => 'alice', %lv),
           403, 'scope_denied', 'a longer scope does not grant its prefix');
$t->redis->srem('ir:org:bank:scopes', 'person.basic.limited', 'person');
$t->redis->sadd('ir:org:bank:scopes', 'person.basic');
$t->redis->hset('ir:user:ann', 'scopes', 'person.basic.limited');
$t->denied($t->get('/persons/basic', cert => 'ann', %lv),
           403, 'scope_denied', 'a user\'s scope word that only begins '
           . 'with the one asked for');
$t->redis->hset('ir:user:ann', 'scopes', 'person.basic');

$t->redis->hset('ir:user:ann', 'scopes', 'person.basic,person.address');
$t->allowed($t->get('/persons/full', cert => 'ann', %lv),
            'a user narrowing with commas');
$t->redis->hset('ir:user:ann', 'scopes', 'person.basic');

# the user cannot widen the contract
$t->redis->hset('ir:user:tom', 'scopes', 'person.basic person.address');

# step 8: environments

$t->denied($t->get('/persons/basic', cert => 'tom', %lv),
           403, 'env_mismatch', 'a test contract in production');
$r = $t->get('/test-env/x', cert => 'tom', %lv);
$t->allowed($r, 'a test contract in the test environment');
like($r->{body}, qr/"scopes":"person\.basic"/,
     'a user\'s scopes field cannot widen the contract\'s grant');
$t->denied($t->get('/test-env/x', cert => 'alice', %lv),
           403, 'env_mismatch', 'a production contract in test');

$t->redis->hset('ir:org:bank', 'env', 'production');
$t->denied($t->get('/persons/basic', cert => 'alice', %lv),
           403, 'env_mismatch', 'an "env" word that only begins with '
           . 'the environment');

$t->redis->hset('ir:org:bank', 'env', 'prod test');
$t->allowed($t->get('/test-env/x', cert => 'alice', %lv),
            'a contract for both environments');

$t->redis->hdel('ir:org:bank', 'env');
$t->denied($t->get('/persons/basic', cert => 'alice', %lv),
           403, 'env_mismatch', 'no env field matches no environment');
bank();

# step 7: the organisation

$t->denied($t->get('/persons/basic', cert => 'olga', %lv),
           403, 'org_unknown', 'an organisation without record');

$t->redis->hset('ir:org:bank', 'status', 'suspended');
$t->denied($t->get('/persons/basic', cert => 'alice', %lv),
           403, 'org_suspended', 'a suspended organisation');
$t->redis->hset('ir:org:bank', 'status', 'actve');
$t->denied($t->get('/persons/basic', cert => 'alice', %lv),
           403, 'org_suspended', 'a status with a typo');
$t->redis->hset('ir:org:bank', 'status', 'active ');
$t->denied($t->get('/persons/basic', cert => 'alice', %lv),
           403, 'org_suspended', 'a status of "active" and a space');
$t->redis->hset('ir:org:bank', 'status', 'active-pending');
$t->denied($t->get('/persons/basic', cert => 'alice', %lv),
           403, 'org_suspended', 'a status that begins with "active"');
$t->redis->hdel('ir:org:bank', 'status');
$t->allowed($t->get('/persons/basic', cert => 'alice', %lv),
            'no status field');

# contract dates, inclusive, either optional

my @dates = (
    [ $tomorrow,   undef,        'contract_not_active', 'starting tomorrow' ],
    [ undef,       $yesterday,   'contract_not_active', 'ended yesterday' ],
    [ $today,      $today,       undef,                 'a one-day contract' ],
    [ undef,       undef,        undef,                 'no dates' ],
    [ '2026-13-45', undef,       'contract_not_active', 'month 13' ],
    [ undef,       '2026-02-29', 'contract_not_active', 'not a leap year' ],
    [ undef,       '2096-02-29', undef,                 'a leap day' ],
    [ undef,       '2099-1-1',   'contract_not_active', 'no leading zeros' ],
    [ '',          undef,        'contract_not_active', 'an empty date' ],
    [ undef,       '31.12.2099', 'contract_not_active', 'another format' ],
    [ undef,       'forever',    'contract_not_active', 'a word' ],
);

for my $d (@dates) {
    my ($from, $to, $reason, $name) = @$d;

    $t->redis->hdel('ir:org:bank', 'valid_from', 'valid_to');
    $t->redis->hset('ir:org:bank', 'valid_from', $from) if defined $from;
    $t->redis->hset('ir:org:bank', 'valid_to', $to) if defined $to;

    my $res = $t->get('/persons/basic', cert => 'alice', %lv);

    if ($reason) {
        $t->denied($res, 403, $reason, "dates: $name");
    } else {
        $t->allowed($res, "dates: $name");
    }
}

$t->redis->hdel('ir:org:bank', 'valid_from', 'valid_to');
$t->redis->hset('ir:org:bank', 'valid_to', '2026-13-45');
my $mark = $t->log_mark;
$t->get('/persons/basic', cert => 'alice', %lv);
like($t->log_since($mark),
     qr/contract_not_active, organisation's "valid_to" is not a YYYY-MM-DD date: "2026-13-45"/,
     'a malformed date is logged with its value');
bank();

# garbage in the organisation's scopes

$t->expect_error(qr/ir_access: Redis key "ir:org:bank:scopes" is a (string|hash), not a set, and is ignored; /);
$t->redis->del('ir:org:bank:scopes');
$t->redis->set('ir:org:bank:scopes', 'person.basic');
$mark = $t->log_mark;
$t->denied($t->get('/persons/basic', cert => 'alice', %lv),
           403, 'scope_denied', 'the scopes key is a string');
like($t->log_since($mark),
     qr/Redis key "ir:org:bank:scopes" is a string, not a set/,
     'the wrong type of the scopes is logged');
$t->redis->del('ir:org:bank:scopes');
$t->redis->hset('ir:org:bank:scopes', 'person.basic', 1);
$t->denied($t->get('/persons/basic', cert => 'alice', %lv),
           403, 'scope_denied', 'the scopes key is a hash');
bank();

# step 5: countries

$t->allowed($t->get('/geo/x', cert => 'alice', ip => '10.1.0.1'),
            'LV in "LV ee"');
$t->allowed($t->get('/geo/x', cert => 'alice', ip => '10.2.0.1'),
            'EE, the list in lower case');
$t->denied($t->get('/geo/x', cert => 'alice', ip => '10.3.0.1'),
           403, 'country_not_allowed', 'RU');
$t->denied($t->get('/geo/x', cert => 'alice', ip => '10.9.0.1'),
           403, 'country_not_allowed', 'an address the database lacks');
$t->allowed($t->get('/geo-unknown/x', cert => 'alice', ip => '10.9.0.1'),
            'unknown addresses allowed by "--"');
$t->denied($t->get('/geo-unknown/x', cert => 'alice', ip => '10.2.0.1'),
           403, 'country_not_allowed', 'EE not in "LV --"');
$t->allowed($t->get('/geo/x', cert => 'alice', ip => '2001:db8:1::5'),
            'LV over IPv6');
$t->denied($t->get('/geo/x', cert => 'alice', ip => '2001:db8:3::5'),
           403, 'country_not_allowed', 'RU over IPv6');
$t->allowed($t->get('/geo/x', cert => 'alice', ip => '::ffff:10.1.0.1'),
            'an IPv4-mapped address');

$mark = $t->log_mark;
$t->get('/geo/x', cert => 'alice', ip => '10.3.0.1');
like($t->log_since($mark), qr/country_not_allowed, country is not in "ir_access_countries": "RU"/,
     'the country is logged');

# the organisation's own countries apply too, with or without a list here

$t->redis->hset('ir:org:bank', 'countries', 'LV');
$t->denied($t->get('/geo/x', cert => 'alice', ip => '10.2.0.1'),
           403, 'country_not_allowed', 'EE: in the list, not the org\'s');
$t->denied($t->get('/persons/basic', cert => 'alice', ip => '10.2.0.1'),
           403, 'country_not_allowed', 'EE: the org\'s field without a list');
$t->allowed($t->get('/persons/basic', cert => 'alice', ip => '10.1.0.1'),
            'LV: in the org\'s field');
$t->redis->hset('ir:org:bank', 'countries', 'lv, ee');
$t->allowed($t->get('/geo/x', cert => 'alice', ip => '10.2.0.1'),
            'EE in both');
bank();

# the first failing step decides

$t->redis->hset('ir:org:bank', 'status', 'suspended');
$t->denied($t->get('/persons/basic', cert => 'alice', ip => '192.0.2.1'),
           403, 'ip_not_allowed', 'address (4) before organisation (7)');
$t->denied($t->get('/geo/x', cert => 'olga', ip => '10.3.0.1'),
           403, 'country_not_allowed', 'country (5) before organisation (7)');
$t->redis->hset('ir:org:bank', 'valid_to', $yesterday);
$t->denied($t->get('/persons/basic', cert => 'alice', %lv),
           403, 'org_suspended', 'status before dates (7)');
$t->redis->hdel('ir:org:bank', 'status');
$t->redis->hset('ir:org:bank', 'env', 'test');
$t->denied($t->get('/persons/basic', cert => 'alice', %lv),
           403, 'contract_not_active', 'dates (7) before environment (8)');
$t->redis->hdel('ir:org:bank', 'valid_to');
$t->redis->srem('ir:org:bank:scopes', 'person.basic');
$t->denied($t->get('/persons/basic', cert => 'alice', %lv),
           403, 'env_mismatch', 'environment (8) before scopes (9)');
$t->redis->hset('ir:user:alice', 'status', 'locked');
$t->denied($t->get('/persons/basic', cert => 'alice', ip => '10.3.0.1'),
           403, 'account_locked', 'user (2) before everything after');
bank();
$t->user('alice', @net, unit => 'loans');

# a database in the flat layout of the freely licensed ones

start($flat);
$t->reload_nginx;
sleep 1;

$t->allowed($t->get('/geo/x', cert => 'alice', ip => '10.1.0.1'),
            'flat layout: LV');
$t->denied($t->get('/geo/x', cert => 'alice', ip => '10.3.0.1'),
           403, 'country_not_allowed', 'flat layout: RU');

$t->stop_nginx;
$t->check_log;

# configuration mistakes

my $guarded = IrTest->guarded_server;

for my $case (
    [ "ir_access_geoip2 %%DIR%%/missing.mmdb;",
      qr/cannot open the MaxMind database ".*missing\.mmdb": .*No such file/,
      'a missing database' ],
    [ "ir_access_geoip2 %%DIR%%/nginx.conf;",
      qr/cannot open the MaxMind database ".*nginx\.conf": .*(invalid|metadata)/i,
      'a file that is no database' ],
    [ "ir_access_countries LV;",
      qr/"ir_access_countries" requires "ir_access_geoip2"/,
      'countries without a database' ],
    [ "ir_access_geoip2 $geo; ir_access_countries LVA;",
      qr/invalid country code "LVA"/, 'a bad country code' ],
    [ "server { listen 127.0.0.1:1; ir_access_scope a; }",
      qr/"ir_access_scope" directive is not allowed here/,
      'scopes on a server' ],
    [ "ir_access_env prod;",
      qr/"ir_access_env" directive is not allowed here/,
      'an environment for all of http' ],
) {
    my ($http, $message, $name) = @$case;
    $t->write_config("ir_access_redis %%REDIS%%;\n$http\n$guarded");
    my ($ok, $out) = $t->test_config;
    ok(!$ok, "$name: nginx -t fails");
    like($out, $message, "$name: the message says why");
}

done_testing;
