#!/usr/bin/perl

# ir-access check: each kind of record an administrator can get wrong,
# seeded into a real Redis, and the finding the tool gives for it (its
# severity, key, field, value and words); each way an announced
# maintenance is ignored by the gateway; the exit status; the nginx
# configuration read for the scopes and environments that locations ask
# for and the time zone, includes followed; the organisations' user sets
# kept by "index"; and a scan of 100,000 users, whose time is printed.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP;
use POSIX qw(strftime);
use Test::More;
use Time::HiRes qw(time);
use IrTest;

my $t = IrTest->new;
my $d = $t->dir;

$t->start_redis;
my $r = $t->redis;

# The configuration the tool reads: the Redis address, and the scopes and
# environments that locations ask for, one of them in an included file.

open my $inc, '>', "$d/contact.conf" or die;
print $inc <<'EOF';
location /contact {
    ir_access_scope "person.contact";   # quoted, as nginx allows
}
EOF
close $inc;

$t->write_config(<<'CONF');
    ir_access_redis %%REDIS%%;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        ir_access on;
        ir_access_env prod;

        location /basic { ir_access_scope person.basic; }
        location /full  { ir_access_scope person.basic person.address; }
        location /test  { ir_access_env test; }
        include contact.conf;
    }
CONF

my $conf = "$d/nginx.conf";

my $pin = join ':', map { sprintf '%02X', $_ } 0 .. 31;
my $sha1 = join ':', map { sprintf '%02X', $_ } 0 .. 19;
my $md5 = join '', map { sprintf '%02x', $_ } 0 .. 15;

my $today = strftime('%Y-%m-%d', localtime);
my $yesterday = strftime('%Y-%m-%d', localtime(time - 86400));
my $in10 = strftime('%Y-%m-%d', localtime(time + 10 * 86400));
my $in100 = strftime('%Y-%m-%d', localtime(time + 100 * 86400));

sub org {
    my ($name, %f) = @_;
    my $scopes = delete $f{scopes} // ['person.basic', 'person.address'];
    $r->del("ir:org:$name", "ir:org:$name:scopes");
    $r->hset("ir:org:$name", $_, $f{$_}) for sort keys %f;
    $r->sadd("ir:org:$name:scopes", @$scopes) if @$scopes;
}

sub user {
    my ($name, %f) = @_;
    my $ips = delete $f{ips} // ['10.0.0.0/8'];
    $f{org} //= 'bank';
    $f{cert} //= $pin;
    $r->del("ir:user:$name", "ir:user:$name:ips");
    $r->hset("ir:user:$name", $_, $f{$_}) for sort keys %f;
    $r->sadd("ir:user:$name:ips", @$ips) if @$ips;
}

my %good_org = (name => 'Demo Bank', contract => 'C-1', status => 'active',
                env => 'prod', valid_from => '2020-01-01',
                valid_to => $in100);

# a clean register first: nothing to say, exit 0

org('bank', %good_org);
user('alice', unit => 'loans');
user('ann', unit => 'loans', scopes => 'person.basic');

my ($rc, $out, $err) = $t->tool('-c', $conf, 'index');
is($rc, 0, 'index builds the user sets') or diag($err);

($rc, $out, $err) = $t->tool('-c', $conf, 'check');
is($rc, 0, 'a clean register: exit 0') or diag($out, $err);
like($out, qr/^2 users, 1 organisations, \d+ keys checked in \d+\.\d{3} s: 0 errors, 0 warnings, 0 info$/m,
     'a clean register: no findings, and the time taken');

# now every kind of mistake

org('bank', %good_org, valid_until => '2026-12-31');
org('typo', %good_org, valid_to => '2026-13-01', env => 'prd',
    scopes => ['person.basic', 'person.adress']);
org('ended', %good_org, valid_to => $yesterday);
org('ending', %good_org, valid_to => $in10);
org('later', %good_org, valid_from => $in100, valid_to => '2099-12-31');
org('backwards', %good_org, valid_from => '2030-01-01',
    valid_to => '2029-01-01');
org('empty', %good_org);
org('halted', %good_org, status => 'Suspended');
org('many', %good_org, users => 'five');

user('sha1', cert => $sha1);
user('pasted1', cert => "SHA1 Fingerprint=$sha1");
user('pasted256', cert => "sha256 Fingerprint=$pin");
user('md5', cert => $md5);
user('junk', cert => 'not-a-pin');
$r->del('ir:user:nocert');
$r->hset('ir:user:nocert', org => 'bank');
$r->sadd('ir:user:nocert:ips', '10.0.0.0/8');
user('typo1', unti => 'loans');
user('scoped', scopes => 'person.basic person.secret person.adress');
user('ghost', org => 'nowhere');
user('noorg', org => '');
$r->hdel('ir:user:noorg', 'org');
user('caps', status => 'Active');
user('paused', status => 'suspended');
user('locked', status => 'locked', locked_at => '2026-11-27T08:00:00.000Z',
     lock_reason => '5 failed logins (wrong password)');
user('badips', ips => ['10.0.0.300', '10.1.2.3/24', '10.1.2.3/0', 'fe80::1/0',
                       'fe80::1/64', '0.0.0.0/0', '192.0.2.1']);
user('noips', ips => []);
user('clear', password => 'hunter2');
user('htline', password => 'htline:$apr1$abcdefgh$0123456789abcdefghijkl');
user('plain', password => '{PLAIN}hunter2');
user('ctrl', unit => "loans\x01");
user('tester', org => 'typo');
user('mover', org => 'ending');

# quotas that are no number refuse the record; 0 refuses every request
org('rated', %good_org, rate => '100/m', daily => 'lots');
user('qrate', org => 'rated', rate => 'fast');
user('qdaily', org => 'rated', daily => '5,000');
user('qzero', org => 'rated', rate => '0');
user('qfine', org => 'rated', rate => '60', daily => '1000');

$r->set('ir:user:strung', 'a string');
$r->hset('ir:user:haships', org => 'bank', cert => $pin);
$r->del('ir:user:haships:ips');
$r->hset('ir:user:haships:ips', 'a' => 'b');
$r->set('ir:org:many:scopes', 'person.basic');
$r->set('ir:org:many:purposes', 'AML');
$r->sadd('ir:user:bad name', 'x');
$r->sadd('ir:user:orphan:ips', '10.0.0.1');
$r->set('ir:user:locked:fails', 3);
$r->set('ir:audit-like', 'not ours');

# the index: ann moved away after it was built
$r->sadd('ir:org:ending:users', 'ann');

($rc, $out, $err) = $t->tool('-c', $conf, 'check', '--json');
is($rc, 1, 'errors: exit 1') or diag($err);

my $check = eval { decode_json($out) };
ok($check, 'check --json is JSON') or diag($out);
my @f = @{ $check->{findings} || [] };

like($out, qr/"seconds":\d+\.\d{3}\}/, 'the time taken is given');

sub finding {
    my ($severity, $key, $field, $value, $re, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my @m = grep {
        $_->{severity} eq $severity && $_->{key} eq $key
        && (!defined $field || ($_->{field} // '') eq $field)
        && (!defined $value || ($_->{value} // '') eq $value)
        && $_->{message} =~ $re
    } @f;

    ok(@m == 1, $name) or diag(explain([grep { $_->{key} eq $key } @f]));
}

sub none_for {
    my ($key, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my @m = grep { $_->{key} eq $key } @f;
    ok(!@m, $name) or diag(explain(\@m));
}

# organisations

finding('warning', 'ir:org:bank', 'valid_until', '2026-12-31',
        qr/unknown field.*did you mean "valid_to"/,
        'valid_until: did you mean valid_to');
finding('error', 'ir:org:typo', 'valid_to', '2026-13-01',
        qr/not a YYYY-MM-DD date.*contract_not_active/,
        'an impossible date is an error');
finding('warning', 'ir:org:typo', 'env', 'prd',
        qr/no ir_access_env in the configuration names it \(did you mean "prod"\?\)/,
        'an environment no location has: did you mean');
finding('warning', 'ir:org:typo:scopes', undef, 'person.adress',
        qr/no ir_access_scope .* asks for this scope \(did you mean "person.address"\?\)/,
        'a scope typo in the grant: did you mean');
finding('warning', 'ir:org:ended', 'valid_to', $yesterday,
        qr/has ended.*contract_not_active/, 'an ended contract');
finding('warning', 'ir:org:ending', 'valid_to', $in10,
        qr/ends within 30 days/, 'a contract that ends within 30 days');
none_for('ir:org:bank:scopes', 'a contract 100 days away is not named');
finding('info', 'ir:org:later', 'valid_from', $in100,
        qr/has not started/, 'a contract yet to start');
finding('error', 'ir:org:backwards', 'valid_to', '2029-01-01',
        qr/ends before it starts/, 'a contract that ends before it starts');
finding('info', 'ir:org:empty', undef, undef, qr/has no users/,
        'an organisation without users');
finding('error', 'ir:org:halted', 'status', 'Suspended',
        qr/not a status the gateway knows.*did you mean "suspended"/,
        'an organisation status the gateway does not know');
finding('warning', 'ir:org:many', 'users', 'five',
        qr/not a number of users/, 'a contract size that is no number');
finding('error', 'ir:org:many:scopes', undef, 'string',
        qr/is a string, not a set/, 'scopes of the wrong type');
finding('error', 'ir:org:many:purposes', undef, 'string',
        qr/is a string, not a set.*purpose_not_allowed/,
        'purposes of the wrong type');

# pins

finding('error', 'ir:user:sha1', 'cert', $sha1,
        qr/a SHA-1 fingerprint, not SHA-256/, 'a SHA-1 pin');
finding('error', 'ir:user:pasted1', 'cert', "Fingerprint=$sha1",
        qr/a SHA-1 fingerprint, not SHA-256/,
        'a pasted "openssl x509 -fingerprint" line of SHA-1');
none_for('ir:user:pasted256',
         'a pasted "openssl x509 -fingerprint -sha256" line is fine');
finding('error', 'ir:user:md5', 'cert', $md5, qr/an MD5 fingerprint/,
        'an MD5 pin');
finding('error', 'ir:user:junk', 'cert', 'not-a-pin',
        qr/not a SHA-256 fingerprint/, 'a pin that is none');
finding('error', 'ir:user:nocert', 'cert', undef,
        qr/no "cert" field.*cert_mismatch/, 'no cert field');

# fields, status, organisation, scopes

finding('warning', 'ir:user:typo1', 'unti', 'loans',
        qr/did you mean "unit"/, 'a user field typo: did you mean');
finding('warning', 'ir:user:scoped', 'scopes', 'person.secret',
        qr/not in the organisation's grant/,
        'a user scope outside the organisation\'s grant');
finding('warning', 'ir:user:scoped', 'scopes', 'person.adress',
        qr/did you mean "person.address"/,
        'a user scope no location asks for: did you mean');
finding('error', 'ir:user:ghost', 'org', 'nowhere',
        qr/names no organisation.*org_unknown/,
        'a user whose org names no organisation');
finding('error', 'ir:user:noorg', 'org', undef, qr/no "org" field/,
        'a user without org');
finding('error', 'ir:user:caps', 'status', 'Active',
        qr/not a status the gateway knows.*user_disabled.*did you mean "active"/,
        'a status the gateway does not know');
finding('info', 'ir:user:paused', 'status', 'suspended',
        qr/the user is suspended/, 'a suspended user');
finding('warning', 'ir:user:locked', 'status', 'locked',
        qr/locked since 2026-11-27T08:00:00.000Z: 5 failed logins \(wrong password\)/,
        'a locked user, with when and why');
finding('info', 'ir:user:locked:fails', undef, undef,
        qr/3 failed logins counted/, 'failed logins counted');
finding('error', 'ir:user:ctrl', 'unit', "loans\x01",
        qr/control character.*bad_record/, 'a control character');

# quotas

finding('error', 'ir:org:rated', 'rate', '100/m',
        qr/^not a number of requests a minute from 0 to 1000000000 \(did you mean "100"\? the field has no unit\): the record is refused, its users are denied \(bad_record\)$/,
        'an organisation\'s rate written as the directive writes it');
finding('error', 'ir:org:rated', 'daily', 'lots',
        qr/^not a number of requests a day .*: the record is refused, its users are denied \(bad_record\)$/,
        'an organisation\'s daily quota that is no number');
finding('error', 'ir:user:qrate', 'rate', 'fast',
        qr/^not a number of requests a minute .*the user is denied \(bad_record\)$/,
        'a user\'s rate that is no number');
finding('error', 'ir:user:qdaily', 'daily', '5,000',
        qr/^not a number of requests a day .*the user is denied \(bad_record\)$/,
        'a user\'s daily quota with a separator');
finding('warning', 'ir:user:qzero', 'rate', '0',
        qr/^0 requests a minute: every request of the user is refused \(rate_limited\)/,
        'a rate of 0 refuses every request');

# allowlists

finding('error', 'ir:user:badips:ips', undef, '10.0.0.300',
        qr/not an IP address or a CIDR prefix/, 'an invalid entry');
finding('error', 'ir:user:badips:ips', undef, '10.1.2.3/24',
        qr/host bits set.*"10\.1\.2\.0\/24".*"10\.1\.2\.3"/,
        'host bits set: the network and the address suggested');
finding('error', 'ir:user:badips:ips', undef, '10.1.2.3/0',
        qr/"\/0" after an address.*did you mean "10\.1\.2\.3\/32"/,
        'an address with /0');
finding('error', 'ir:user:badips:ips', undef, 'fe80::1/0',
        qr/did you mean "fe80::1\/128"/, 'an IPv6 address with /0');
finding('error', 'ir:user:badips:ips', undef, 'fe80::1/64',
        qr/"fe80::\/64"/, 'IPv6 host bits set');
finding('warning', 'ir:user:badips:ips', undef, '0.0.0.0/0',
        qr/allows every address/, 'every address allowed');
finding('error', 'ir:user:noips:ips', undef, undef,
        qr/no allowlist.*ip_not_allowed/, 'no allowlist');

# passwords, never shown

finding('error', 'ir:user:clear', 'password', '(not shown)',
        qr/no hash the gateway knows: a password in clear/,
        'a password in clear');
finding('error', 'ir:user:htline', 'password', '(not shown)',
        qr/a whole htpasswd line/, 'a whole htpasswd line');
finding('warning', 'ir:user:plain', 'password', '(not shown)',
        qr/\{PLAIN\}/, 'a {PLAIN} password');
unlike($out, qr/hunter2|abcdefgh/, 'no password is ever printed');

# keys of the wrong type, and keys of no record

finding('error', 'ir:user:strung', undef, 'string',
        qr/is a string, not a hash.*unknown_user/, 'a user of the wrong type');
finding('error', 'ir:user:haships:ips', undef, 'hash',
        qr/is a hash, not a set/, 'an allowlist of the wrong type');
finding('warning', 'ir:user:bad name', undef, undef, qr/part of no record/,
        'a key of no record');
finding('warning', 'ir:user:orphan:ips', undef, undef,
        qr/an allowlist of no user/, 'an allowlist without its user');
none_for('ir:audit-like', 'keys outside user: and org: are not ours');

# the organisations' user sets

finding('warning', 'ir:org:ending:users', undef, 'ann',
        qr/the user belongs to "bank"/, 'a user listed under another org');
finding('warning', 'ir:org:ending:users', undef, 'mover',
        qr/missing from its set/, 'a user missing from its org\'s set');
finding('warning', 'ir:org:typo:users', undef, undef,
        qr/no set of the organisation's 1 users/, 'an org without its set');

is(scalar(grep { $_->{severity} eq 'error' } @f), $check->{errors},
   'the errors are counted');

# plain text: a table, the same findings

($rc, $out) = $t->tool('-c', $conf, 'check');
is($rc, 1, 'plain: exit 1');
like($out, qr/^SEVERITY\s+KEY\s+FIELD\s+VALUE\s+FINDING$/m, 'plain: a table');
like($out, qr/^error\s+ir:user:sha1\s+cert\s+00:01:02:03:\S+\.\.\.\s+a SHA-1 fingerprint/m,
     'plain: a row, the value cut short');
like($out, qr/^error\s+ir:user:ctrl\s+unit\s+loans\\x01\s/m,
     'plain: control characters escaped');

# --days, and without a configuration no scope or environment is guessed at

($rc, $out) = $t->tool('check', '--days', '5', '--json');
my $plain = decode_json($out);
ok(!(grep { $_->{key} eq 'ir:org:ending' && $_->{field} eq 'valid_to' }
     @{ $plain->{findings} }), '--days 5: a contract 10 days away is not named');
ok(!(grep { $_->{message} =~ /ir_access_(scope|env)/ }
     @{ $plain->{findings} }), 'without -c no scope or environment is judged');

# index puts the sets right, and check says no more of them

($rc, $out, $err) = $t->tool('-c', $conf, 'index', '--dry-run');
is($rc, 0, 'index --dry-run') or diag($err);
like($out, qr/^ending: would be removed ann$/m, 'dry run: what would go');
ok($r->sismember('ir:org:ending:users', 'ann'), 'dry run: nothing written');

($rc, $out, $err) = $t->tool('-c', $conf, 'index');
is($rc, 0, 'index') or diag($err);
ok(!$r->sismember('ir:org:ending:users', 'ann'), 'index: ann removed');
ok($r->sismember('ir:org:ending:users', 'mover'), 'index: mover added');
is_deeply([sort @{ $r->smembers('ir:org:bank:users') }],
          [sort qw(alice ann caps clear ctrl htline junk locked md5 nocert
                   noips paused pasted1 pasted256 plain scoped sha1 typo1
                   badips haships)],
          'index: the bank\'s users');
ok(!$r->exists('ir:org:nowhere:users'), 'no set for an org that is none');

($rc, $out) = $t->tool('-c', $conf, 'check', '--json');
ok(!(grep { $_->{key} =~ /:users$/ } @{ decode_json($out)->{findings} }),
   'after index: no finding about the sets');

# the announced maintenance: each way the gateway ignores it, one in
# effect, and one whose message the answers leave out

sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($_[0])) }

sub maintenance {
    my (%f) = @_;
    $r->del('ir:maintenance');
    $r->hset('ir:maintenance', $_, $f{$_}) for sort keys %f;
}

# the findings of the maintenance hash, among the records' own
sub check_maintenance {
    my (@args) = @_;

    my ($rc, $out, $err) = $t->tool(@args, 'check', '--json');
    my $c = eval { decode_json($out) };
    diag("check: exit $rc, $err") unless $c;
    @f = $c ? grep { $_->{key} eq 'ir:maintenance' } @{ $c->{findings} } : ();
}

my $end = int(time) + 3600;

maintenance(env => 'prod', message => 'Back at noon');
check_maintenance('-c', $conf);
finding('error', 'ir:maintenance', 'until', undef,
        qr/^no "until" field: the gateway ignores the maintenance/,
        'a maintenance without until');

my $passed = iso(time - 60);
maintenance(env => 'prod', until => $passed);
check_maintenance('-c', $conf);
finding('warning', 'ir:maintenance', 'until', $passed,
        qr/^has passed \(.*\): there is no maintenance; delete the hash \(redis-cli DEL ir:maintenance\)$/,
        'a maintenance that has passed');

maintenance(env => 'prod', until => 'Monday 8:00');
check_maintenance('-c', $conf);
finding('error', 'ir:maintenance', 'until', 'Monday 8:00',
        qr/^not an ISO 8601 time .*: the gateway ignores the maintenance$/,
        'an until that is no time');

maintenance(env => 'prod', until => '2026-12-24');
check_maintenance('-c', $conf);
finding('error', 'ir:maintenance', 'until', '2026-12-24',
        qr/^a date alone is no time .*: the gateway ignores the maintenance \(write the time too, such as "2026-12-24T18:00"\)$/,
        'a date alone');

maintenance(env => 'prod ' . ('test ' x 13), until => iso($end));
check_maintenance('-c', $conf);
finding('error', 'ir:maintenance', 'env', undef,
        qr/^70 bytes long, over the limit of 64: the gateway ignores the maintenance$/,
        'an env too long');

maintenance(env => "prod\x01", until => iso($end));
check_maintenance('-c', $conf);
finding('error', 'ir:maintenance', 'env', "prod\x01",
        qr/^holds a control character: the gateway ignores the maintenance$/,
        'an env with a control character');

maintenance(env => 'prd', until => iso($end), message => "two\tlines",
            untill => 'x');
check_maintenance('-c', $conf);
finding('info', 'ir:maintenance', 'until', iso($end),
        qr/^a maintenance is in effect until \Q@{[iso($end)]}\E: guarded requests are refused \(maintenance, 503\) where ir_access_env is one of "prd"$/,
        'a maintenance in effect');
finding('warning', 'ir:maintenance', 'env', 'prd',
        qr/no ir_access_env in the configuration names it \(did you mean "prod"\?\)/,
        'a maintenance for an environment no location has');
finding('error', 'ir:maintenance', 'message', "two\tlines",
        qr/^longer than 1024 bytes, holding a control character or not UTF-8: the gateway leaves it out of its answers$/,
        'a message the answers leave out');
finding('warning', 'ir:maintenance', undef, 'untill',
        qr/^unknown field, ignored by the gateway \(did you mean "until"\?\)$/,
        'a field typo: did you mean');

$r->del('ir:maintenance');
$r->set('ir:maintenance', 'closed');
check_maintenance('-c', $conf);
finding('error', 'ir:maintenance', undef, 'string',
        qr/^is a string, not a hash: the gateway cannot read it, so there is no maintenance$/,
        'a maintenance of the wrong type');

# a local time is one of ir_access_timezone, as the gateway reads it: in
# UTC+14 and UTC-12, a day apart, at least one differs from this host's

for my $zone (['Etc/GMT-14', 14], ['Etc/GMT+12', -12]) {
    my ($name, $hours) = @$zone;

    open my $tz, '>', "$d/tz.conf" or die;
    print $tz "ir_access_redis @{[$t->redis_addr]};\n"
              . "ir_access_timezone $name;\n";
    close $tz;

    my $local = strftime('%Y-%m-%dT%H:%M:%S',
                         gmtime($end + $hours * 3600));

    maintenance(until => $local);
    check_maintenance('-c', "$d/tz.conf");
    finding('info', 'ir:maintenance', 'until', $local,
            qr/^a maintenance is in effect until \Q@{[iso($end)]}\E \(local time in \Q$name\E\): guarded requests are refused \(maintenance, 503\) everywhere$/,
            "$name: a local time read in ir_access_timezone");
}

open my $tz, '>', "$d/tz.conf" or die;
print $tz "ir_access_redis @{[$t->redis_addr]};\n"
          . "ir_access_timezone Europe/Atlantis;\n";
close $tz;

($rc, $out, $err) = $t->tool('-c', "$d/tz.conf", 'check');
is($rc, 3, 'an unknown ir_access_timezone: exit 3');
like($err, qr/unknown time zone "Europe\/Atlantis"/, 'and why');

# as the ACL user "ir-admin" of docs/operations.md: the maintenance and
# the request counters are read too

my ($acl) = do { local (@ARGV, $/) = ("$FindBin::Bin/../docs/operations.md");
                 <> } =~ /^\s*ACL SETUSER ir-admin (.*)$/m;
$acl =~ s/>\$\(cat [^)]*\)/>s3cret/;
$r->acl('SETUSER', 'ir-admin', split ' ', $acl);

open my $pw, '>', "$d/admin.password" or die;
print $pw "s3cret\n";
close $pw;

my @admin = ('--user', 'ir-admin', '--password-file', "$d/admin.password");

maintenance(env => 'prod', until => iso($end));
check_maintenance(@admin, '-c', $conf);
finding('info', 'ir:maintenance', 'until', iso($end),
        qr/^a maintenance is in effect/, 'ir-admin: the maintenance is read');

($rc, $out, $err) = $t->tool(@admin, 'explain', 'alice', '--ip', '10.0.0.1',
                             '--env', 'test', '--quota', 'daily=5', '--json');
my $ex = eval { decode_json($out) } || {};
like(join("\n", @{ $ex->{steps}[0]{facts} || [] }),
     qr/in effect until .*, but not here/,
     'ir-admin: explain reads the maintenance') or diag($out, $err);

$r->hset('ir:org:bank', env => 'prod test');
($rc, $out, $err) = $t->tool(@admin, 'explain', 'alice', '--ip', '10.0.0.1',
                             '--env', 'test', '--quota', 'daily=5', '--json');
$ex = eval { decode_json($out) } || {};
is($ex->{quotas}{user}{daily}, 5, 'ir-admin: explain reads the counters')
    or diag($out, $err);
$r->hset('ir:org:bank', env => 'prod');

$r->del('ir:maintenance');

# the connection: a wrong address, and the configuration's errors

($rc, $out, $err) = $t->tool('--redis', '127.0.0.1:1', 'check');
is($rc, 4, 'Redis unreachable: exit 4');
like($err, qr/cannot connect to Redis at "127\.0\.0\.1:1"/, 'and why');

($rc, $out, $err) = $t->tool('-c', "$d/none.conf", 'check');
is($rc, 3, 'a configuration that is not there: exit 3');

($rc, $out, $err) = $t->tool('check', '--ip', '10.0.0.1');
is($rc, 2, 'an option of another command: exit 2');

($rc, $out) = $t->tool('--help');
is($rc, 0, '--help');
like($out, qr/exit status:\n  0 .*\n  1 .*\n  2 .*\n  3 .*\n  4 /,
     '--help tells the exit codes');

# 100,000 users, their allowlists and an organisation, read in seconds

$r->flushall;

open my $seed, '>', "$d/seed.resp" or die;

sub resp { my $s = '*' . @_ . "\r\n"; $s .= '$' . length($_) . "\r\n$_\r\n" for @_; $s }

print $seed resp('HSET', 'ir:org:big', 'name', 'Big', 'env', 'prod',
                 'valid_to', $in100);
print $seed resp('SADD', 'ir:org:big:scopes', 'person.basic');

for my $i (1 .. 100_000) {
    print $seed resp('HSET', "ir:user:u$i", 'org', 'big', 'unit', 'loans',
                     'cert', $pin);
    print $seed resp('SADD', "ir:user:u$i:ips", '10.' . ($i % 256) . '.0.1');
}

close $seed;

IrTest::run("redis-cli -p $t->{redis_port} --pipe < $d/seed.resp");

my $start = time;
($rc, $out, $err) = $t->tool('check');
my $took = time - $start;

is($rc, 0, '100,000 users: no errors') or diag($err);
like($out, qr/^100000 users, 1 organisations, 200002 keys checked in (\d+\.\d+) s/m,
     '100,000 users checked');
diag(sprintf "check of 100,000 users: %.2f s (the tool says %s s)", $took,
     $out =~ /checked in (\S+) s/ ? $1 : '?');

done_testing;
