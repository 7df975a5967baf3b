#!/usr/bin/perl

# ir-access explain: for every record of a matrix (each way a user, an
# allowlist, a pin, a password, a purpose or an organisation can be, as the other
# tests seed them), from several addresses and at several locations, the
# reason the tool ends with is the reason the gateway answers the same
# request with; so too for quotas counted up to their limits (the user's
# and the organisation's, the configuration's and the records') and for
# announced maintenance (per environment, everywhere, in local time, and
# the ways the gateway ignores one); the denial's log line it shows is the
# gateway's own; and the steps are told in order.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Digest::SHA qw(sha1);
use JSON::PP;
use MIME::Base64;
use POSIX qw(strftime mktime);
use Test::More;
use Time::HiRes qw(sleep time);
use IrTest;

my $t = IrTest->new;
my $d = $t->dir;

$t->start_redis;
my $r = $t->redis;

my $geo = $t->write_mmdb('geo.mmdb', {
    '10.1.0.0/16' => 'LV',
    '10.2.0.0/16' => 'EE',
});

my $conf = <<'CONF';
    ir_access_redis %%REDIS%%;
    ir_access_geoip2 %%GEO%%;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        ir_access on;
        ir_access_env prod;

        location /basic/ {
            ir_access_scope person.basic;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /full/ {
            ir_access_scope person.basic person.address;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /test/ {
            ir_access_env test;
            ir_access_scope person.basic;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /geo/ {
            ir_access_countries LV;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /pw/ {
            ir_access_password on;
            ir_access_lockout 3;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /why/ {
            ir_access_purpose $http_x_ir_purpose;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /daily/ {
            ir_access_quota daily=3;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /rate/ {
            ir_access_quota rate=2/m daily=1000;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /orgq/ {
            ir_access_quota org_daily=4;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }
    }
CONF

$conf =~ s/%%GEO%%/$geo/;
$t->write_config($conf);

# what the tool is told of each location, as its configuration says
my %location = (
    '/basic/' => ['--env', 'prod', '--scope', 'person.basic'],
    '/full/'  => ['--env', 'prod', '--scope', 'person.basic',
                  '--scope', 'person.address'],
    '/test/'  => ['--env', 'test', '--scope', 'person.basic'],
    '/geo/'   => ['--env', 'prod', '--countries', 'LV'],
    '/pw/'    => ['--env', 'prod', '--lockout', '3'],
    '/why/'   => ['--env', 'prod'],
    '/daily/' => ['--env', 'prod', '--quota', 'daily=3'],
    '/rate/'  => ['--env', 'prod', '--quota', 'rate=2/m daily=1000'],
    '/orgq/'  => ['--env', 'prod', '--quota', 'org_daily=4'],
);

# and what the GeoIP database says of each address
my %country = ('10.1.0.5' => 'LV', '10.2.0.5' => 'EE', '192.0.2.1' => '');

my $yesterday = strftime('%Y-%m-%d', localtime(time - 86400));
my $later = strftime('%Y-%m-%d', localtime(time + 100 * 86400));

my %org = (
    bank   => { name => 'Demo Bank', env => 'prod', valid_from => '2020-01-01',
                valid_to => '2099-12-31',
                scopes => ['person.basic', 'person.address'] },
    testco => { env => 'test', scopes => ['person.basic'] },
    oldco  => { env => 'prod', valid_to => $yesterday,
                scopes => ['person.basic'] },
    newco  => { env => 'prod', valid_from => $later,
                scopes => ['person.basic'] },
    dateco => { env => 'prod', valid_to => '2026-13-01',
                scopes => ['person.basic'] },
    haltco => { env => 'prod', status => 'suspended',
                scopes => ['person.basic'] },
    ctrlco => { env => 'prod', name => "Bad\x01Name",
                scopes => ['person.basic'] },
    lvco   => { env => 'prod', countries => 'LV',
                scopes => ['person.basic'] },
    bareco => { env => 'prod prod-eu' },
);

for my $name (sort keys %org) {
    $t->org($name, %{ $org{$name} });
}

$r->sadd('ir:org:bank:purposes', 'LB-7', 'AML');

my @users = qw(alice ann tom olga lock dis caps nopin sha1 other badips
               noips narrow ctrl strung nobody ended future baddate susp
               badorg geo pw clearpw wide bare);

$t->client_cert($_) for @users;

my @net = (ips => ['10.0.0.0/8']);
my $sha1 = join ':', map { sprintf '%02X', $_ } 0 .. 19;
my $pw = '{SHA}' . encode_base64(sha1('secret'), '');

$t->user('alice', @net, unit => 'loans');
$t->user('ann', @net, scopes => 'person.basic');
$t->user('tom', @net, org => 'testco');
$t->user('olga', @net, org => 'nonexistent');
$t->user('lock', @net, status => 'locked', locked_at => '2026-11-27T08:00:00.000Z',
         lock_reason => '3 failed logins (wrong password)');
$t->user('dis', @net, status => 'disabled');
$t->user('caps', @net, status => 'Active');
$t->user('nopin', @net);
$r->hdel('ir:user:nopin', 'cert');
$t->user('sha1', @net, cert => 'none');
$r->hset('ir:user:sha1', 'cert', "SHA1 Fingerprint=$sha1");
$t->user('other', @net, cert => 'alice');
$t->user('badips', ips => ['10.0.0.1/8', 'bogus']);
$t->user('noips');
$t->user('narrow', ips => ['10.1.0.0/16']);
$t->user('ctrl', @net, unit => "loans\x01");
$r->set('ir:user:strung', 'a string');
$t->user('ended', @net, org => 'oldco');
$t->user('future', @net, org => 'newco');
$t->user('baddate', @net, org => 'dateco');
$t->user('susp', @net, org => 'haltco');
$t->user('badorg', @net, org => 'ctrlco');
$t->user('geo', @net, org => 'lvco');
$t->user('pw', @net, password => $pw);
$t->user('clearpw', @net, password => 'secret');
$t->user('wide', ips => ['0.0.0.0/0']);
$t->user('bare', @net, org => 'bareco');

# the bad records the matrix asks the gateway about
$t->expect_error(
    qr/ir_access: Redis key "ir:user:badips:ips" has entries that are not an IP address or a CIDR prefix without host bits, ignored: /,
    qr/ir_access: the record "ir:user:ctrl" is unusable: field "unit" holds a control character; /,
    qr/ir_access: Redis key "ir:user:strung" is a string, not a hash, and is ignored; /,
    qr/ir_access: the record "ir:org:ctrlco" is unusable: field "name" holds a control character; /,
    qr/ir_access: the record "ir:user:qbad" is unusable: field "daily" is not a number of requests a day /,
    qr/ir_access: the maintenance "ir:maintenance" \(until "[^"]*"\) (has an "until" in the past|has an "until" that is no ISO 8601 time|has an "env" with a control character|has no "until"|could not be read)/);

$t->start_nginx;

# the gateway's answer: "allow", or the reason its JSON body gives

sub gateway {
    my ($user, $ip, $path, %o) = @_;

    my $res = $t->get($path, cert => $user, ip => $ip, %o);

    return 'allow' if $res->{status} == 200;
    return $1 if $res->{body} =~ /^\{"error":"([a-z_]+)"/;
    return "status $res->{status}";
}

sub tool {
    my ($user, $ip, $path, @more) = @_;

    my ($rc, $out, $err) = $t->tool('explain', $user, '--ip', $ip,
                                    '--cert', "$d/$user.crt",
                                    '--country', $country{$ip},
                                    @{ $location{$path} }, @more, '--json');

    my $e = eval { decode_json($out) };

    return ($rc, $e ? ($e->{decision} eq 'allow' ? 'allow' : $e->{reason})
                    : "no JSON: $err", $e);
}

my %reasons;

sub same {
    my ($user, $ip, $path, $password, @more) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my %purpose = @more && $more[0] eq '--purpose'
                  ? (headers => ["X-IR-Purpose: $more[1]"]) : ();

    # the tool first: the gateway's answer may change the record (a lock)
    # or the counts (an allowed request under a quota)

    my ($rc, $got, $e) = tool($user, $ip, $path, @more);
    my $want = gateway($user, $ip, $path, %purpose,
                       defined $password ? (user => "$user:$password") : ());

    $reasons{$want}++;

    # the reason, and the exit status that goes with it

    is("$got, exit $rc", "$want, exit " . ($want eq 'allow' ? 0 : 1),
       "$user from $ip at $path: $want");

    return $e;
}

for my $user (@users) {
    for my $path ('/basic/', '/full/', '/test/', '/geo/') {
        same($user, '10.1.0.5', $path);
    }

    for my $ip ('10.2.0.5', '192.0.2.1') {
        same($user, $ip, '/basic/');
        same($user, $ip, '/geo/');
    }
}

# passwords: one that matches, none, a wrong one

for my $user (qw(pw alice clearpw lock)) {
    same($user, '10.1.0.5', '/pw/', 'secret', '--password-ok');
    same($user, '10.1.0.5', '/pw/', undef, '--no-password');
    same($user, '10.1.0.5', '/pw/', 'wrong', '--password-wrong');
}

# purposes: one of the organisation's, another, none stated, and an
# organisation without purposes

for my $user (qw(alice tom bare lock)) {
    same($user, '10.1.0.5', '/why/', undef, '--purpose', 'AML');
    same($user, '10.1.0.5', '/why/', undef, '--purpose', 'marketing');
    same($user, '10.1.0.5', '/why/', undef, '--purpose', '');
}

# the lockout: two more wrong passwords lock the account at 3

$t->expect_error(qr/ir_access: user "pw" locked after 3 failed logins; /);

same('pw', '10.1.0.5', '/pw/', 'wrong', '--password-wrong');
same('pw', '10.1.0.5', '/pw/', 'wrong', '--password-wrong');
same('pw', '10.1.0.5', '/pw/', 'secret', '--password-ok');

# quotas, counted by the gateway up to their limits: the tool reads the
# counts Redis has once the gateway's batch is in (~100 ms), and refuses
# where the gateway does, with the same reason and subject; allowed
# requests are counted, refused ones not

sub today { strftime('%Y%m%d', localtime) }
sub minute { strftime('%Y%m%d%H%M', gmtime) }

# the gateway's counts are in Redis once they are $n (or after five
# seconds): its batches go every 100 ms
sub counted {
    my ($key, $n) = @_;
    my $got;
    for (1 .. 100) {
        $got = $r->get($key) // 0;
        return if $got == $n;
        sleep 0.05;
    }
    diag("$key is $got, not $n: the gateway's count is not in Redis");
}

# the tool's Retry-After is the gateway's, give or take a second or two
sub retry_after_is {
    my ($e, $res, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my $h = $res->{headers}{'retry-after'};

    ok(defined $e->{retry_after} && defined $h
       && abs($h - $e->{retry_after}) <= 2, $name)
        or diag("the tool: " . ($e->{retry_after} // 'none')
                . ", the gateway: " . ($h // 'none'));
}

# the day and the minute must not end under the test
{
    my @lt = localtime;
    my $to_midnight = mktime(0, 0, 0, $lt[3] + 1, $lt[4], $lt[5]) - time;
    sleep($to_midnight + 2) if $to_midnight < 60;
    my $s = time % 60;
    sleep(61 - $s) if $s > 40;
}

$t->client_cert($_) for qw(qday qrate qown qorg1 qorg2 qbad);

$t->org('limited', env => 'prod', daily => 2, scopes => ['person.basic']);
$t->user('qday', @net);
$t->user('qrate', @net);
$t->user('qown', @net, rate => 1);
$t->user('qorg1', @net, org => 'limited');
$t->user('qorg2', @net, org => 'limited');
$t->user('qbad', @net, daily => '3/d');

# the configuration's daily=3: three allowed and counted, the fourth not

for my $n (1 .. 3) {
    my $e = same('qday', '10.1.0.5', '/daily/');
    is($e->{quotas}{user}{today}, $n - 1, "qday, request $n: the day's "
       . 'count before it');
    is($e->{quotas}{user}{daily}, 3, "qday, request $n: the limit");
    counted("ir:quota:user:qday:day:" . today(), $n);
}

my $e = same('qday', '10.1.0.5', '/daily/');
is($e->{reason}, 'daily_quota_exceeded', 'qday: over the day');
is($e->{subject}, 'qday', 'qday: the user\'s quota');
is($e->{step}, 11, 'qday: step 11 refused');
like((grep { /this minute/ } @{ $e->{steps}[11]{facts} })[0],
     qr/^user "qday", this minute \(UTC\): 3 counted, limit none$/,
     'qday: the minute\'s count told');
like((grep { /today/ } @{ $e->{steps}[11]{facts} })[0],
     qr/^user "qday", today \(\d{4}-\d\d-\d\d\): 3 counted, limit 3 requests a day \(ir_access_quota daily=\)$/,
     'qday: the day\'s count and limit told, and whence');
my $res = $t->get('/daily/', cert => 'qday', ip => '10.1.0.5');
retry_after_is($e, $res, 'qday: Retry-After is the gateway\'s');

# the configuration's rate=2/m; and a record's own rate=1 before it

same('qrate', '10.1.0.5', '/rate/');
counted("ir:quota:user:qrate:minute:" . minute(), 1);
same('qrate', '10.1.0.5', '/rate/');
counted("ir:quota:user:qrate:minute:" . minute(), 2);
$e = same('qrate', '10.1.0.5', '/rate/');
is($e->{reason}, 'rate_limited', 'qrate: over the minute');
is($e->{quotas}{user}{this_minute}, 2, 'qrate: the minute\'s count');
$res = $t->get('/rate/', cert => 'qrate', ip => '10.1.0.5');
retry_after_is($e, $res, 'qrate: Retry-After, until the minute ends');

$e = same('qown', '10.1.0.5', '/rate/');
is($e->{quotas}{user}{rate}, 1, 'qown: the record\'s rate is the limit');
counted("ir:quota:user:qown:minute:" . minute(), 1);
$e = same('qown', '10.1.0.5', '/rate/');
is($e->{reason}, 'rate_limited', 'qown: over the record\'s rate');
like((grep { /this minute/ } @{ $e->{steps}[11]{facts} })[0],
     qr/limit 1 requests a minute \(the record's "rate"\)/,
     'qown: the record\'s limit told');

# an organisation's own daily=2 before the configuration's org_daily=4,
# shared by its users

same('qorg1', '10.1.0.5', '/orgq/');
counted("ir:quota:org:limited:day:" . today(), 1);
same('qorg2', '10.1.0.5', '/orgq/');
counted("ir:quota:org:limited:day:" . today(), 2);
$e = same('qorg1', '10.1.0.5', '/orgq/');
is($e->{reason}, 'daily_quota_exceeded', 'qorg1: the organisation\'s day');
is($e->{subject}, 'limited', 'qorg1: the organisation\'s quota');
is_deeply([ @{ $e->{quotas}{org} }{qw(name daily today)} ],
          [ 'limited', 2, 2 ], 'qorg1: the organisation\'s limit and count');

# a quota that is no number refuses the record

same('qbad', '10.1.0.5', '/daily/');

# the denial's line for a quota is the gateway's own, at info

{
    my $mark = $t->log_mark;

    $t->get('/daily/', cert => 'qday', ip => '10.1.0.5');

    my ($line) = $t->log_since($mark)
                 =~ /\[info\] \d+#\d+: \*\d+ (ir_access: denied user [^\n]*?), client:/;

    my (undef, undef, $e) = tool('qday', '10.1.0.5', '/daily/');
    my ($said) = grep { /denied user/ } @{ $e->{gateway_log} };

    is($said, "[info] $line", "qday: the gateway's own quota line")
        or diag($t->log_since($mark));
}

# announced maintenance ---------------------------------------------------

sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($_[0])) }

# the hash replaced at once, as an administrator's one HSET writes it
sub maintenance {
    my (%f) = @_;
    $r->multi;
    $r->del('ir:maintenance');
    $r->hset('ir:maintenance', map { $_ => $f{$_} } sort keys %f) if %f;
    $r->exec;
}

# the gateway reads the hash every second: its answer once it is $want
sub gateway_says {
    my ($path, $want) = @_;
    my $got;
    for (1 .. 100) {
        $got = gateway('alice', '10.1.0.5', $path);
        last if $got eq $want;
        sleep 0.05;
    }
    return $got;
}

# or its log, once it says so
sub gateway_logs {
    my ($mark, $re) = @_;
    for (1 .. 100) {
        last if $t->log_since($mark) =~ $re;
        sleep 0.05;
    }
    return $t->log_since($mark) =~ $re;
}

sub step0 {
    my ($e) = @_;
    return join "\n", @{ $e->{steps}[0]{facts} };
}

my $end = int(time) + 3600;

# for one environment: its places closed to everyone, the others open

maintenance(env => 'test', until => iso($end), message => 'Back at noon');
gateway_says('/test/', 'maintenance') eq 'maintenance'
    or diag('the gateway did not close the test places');

for my $user (qw(alice tom nobody strung)) {
    same($user, '10.1.0.5', '/test/');
}

$e = same('alice', '10.2.0.5', '/test/');
is($e->{step}, 0, 'maintenance: step 0, before the identity');
is_deeply([map { $_->{outcome} } @{ $e->{steps} }],
          ['deny', ('not reached') x 11], 'maintenance: nothing else read');
is($e->{until}, iso($end), 'maintenance: until, as the answer says');
is($e->{message}, 'Back at noon', 'maintenance: the message');

$res = $t->get('/test/', cert => 'alice', ip => '10.1.0.5');
like($res->{body},
     qr/"message":"\Q@{[$e->{message} \/\/ '?']}\E","until":"\Q@{[$e->{until} \/\/ '?']}\E"/,
     'maintenance: the gateway answers the same until and message');
retry_after_is($e, $res, 'maintenance: Retry-After is the gateway\'s');

(undef, undef, $e) = tool('alice', '10.1.0.5', '/basic/');
like(step0($e), qr/in effect until \Q@{[iso($end)]}\E, but not here: the location's environment is "prod"/,
     'maintenance of another environment: told, and passed');

# the denial's line is the gateway's own, for no user yet, at info

{
    my $mark = $t->log_mark;

    $t->get('/test/', cert => 'tom', ip => '10.1.0.5');

    my ($line) = $t->log_since($mark)
                 =~ /\[info\] \d+#\d+: \*\d+ (ir_access: denied user [^\n]*?), client:/;

    my (undef, undef, $e) = tool('tom', '10.1.0.5', '/test/');
    my ($said) = grep { /denied user/ } @{ $e->{gateway_log} };

    is($said, "[info] $line", "maintenance: the gateway's own line")
        or diag($t->log_since($mark));
}

# without "env": every place; "both" and a local time without offset too

maintenance(until => iso($end));
gateway_says('/basic/', 'maintenance') eq 'maintenance'
    or diag('the gateway did not close every place');

for my $path ('/basic/', '/geo/', '/daily/') {
    same('alice', '10.1.0.5', $path);
    same('olga', '10.1.0.5', $path);
}

maintenance(env => 'both', until => strftime('%Y-%m-%dT%H:%M:%S',
                                             localtime($end + 60)));
my $mark = $t->log_mark;
gateway_logs($mark, qr/the maintenance until \Q@{[iso($end + 60)]}\E begins/)
    or diag('the gateway did not begin the maintenance in local time');

for my $path ('/test/', '/basic/') {
    $e = same('tom', '10.1.0.5', $path);
}

is($e->{until}, iso($end + 60), 'a local time: until in UTC, as the gateway');

# what the gateway ignores, the tool ignores, and says why

my $ended = int(time) - 60;
my @ignored = (
    [ 'an until in the past', { env => 'prod', until => iso($ended) },
      qr/has an "until" in the past/, qr/it ended at \Q@{[iso($ended)]}\E: no maintenance/ ],
    [ 'a date alone', { env => 'prod', until => strftime('%Y-%m-%d', localtime($end)) },
      qr/has an "until" that is no ISO 8601 time/, qr/"until" is no ISO 8601 time/ ],
    [ 'an until that is no time', { until => 'tomorrow noon' },
      qr/has an "until" that is no ISO 8601 time/, qr/"until" is no ISO 8601 time/ ],
    [ 'an env with a control character', { env => "prod\x01", until => iso($end) },
      qr/has an "env" with a control character/, qr/"env" holds a control character/ ],
    [ 'an env too long', { env => 'prod ' . ('x' x 70), until => iso($end) },
      qr/or an "env" over 64 bytes/, qr/"env" is longer than 64 bytes/ ],
    [ 'no until', { env => 'prod', message => 'soon' },
      qr/has no "until"/, qr/no "until": the gateway ignores it/ ],
);

# both allow, and the tool's step 0 says why
sub ignored {
    my ($told, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my ($rc, $got, $e) = tool('alice', '10.1.0.5', '/basic/');
    my $want = gateway('alice', '10.1.0.5', '/basic/');

    ok($got eq $want && $rc == 0
       && $e->{steps}[0]{name} eq 'maintenance'
       && $e->{steps}[0]{outcome} eq 'pass' && step0($e) =~ $told, $name)
        or diag("the tool: $got ($rc), the gateway: $want; step 0: "
                . ($e ? step0($e) : '?'));
}

for my $case (@ignored) {
    my ($name, $f, $logged, $told) = @$case;

    $mark = $t->log_mark;
    maintenance(%$f);
    gateway_logs($mark, $logged)
        or diag("$name: the gateway did not say it ignores it");

    ignored($told, "$name: both ignore it, and the tool says why");
}

$r->del('ir:maintenance');
$r->set('ir:maintenance', 'a string');
$mark = $t->log_mark;
gateway_logs($mark, qr/could not be read/)
    or diag('the gateway did not say it cannot read a string');
ignored(qr/is a string, not a hash/, 'a key of another type: both ignore '
        . 'it, and the tool says why');

$r->del('ir:maintenance');
ignored(qr/^none announced \(ir:maintenance is not there\)$/,
        'no maintenance: told');

# the configuration's quotas, read with -c as the gateway reads them,
# and the day counted in its ir_access_timezone: in UTC+14 and UTC-12, a
# day apart, at least one differs from this host's

for my $zone (['Etc/GMT-14', 14], ['Etc/GMT+12', -12]) {
    my ($name, $hours) = @$zone;

    open my $f, '>', "$d/tool.conf" or die;
    print $f "ir_access_redis @{[$t->redis_addr]};\n"
             . "ir_access_timezone $name;\n"
             . "server { location / { ir_access_quota daily=7 "
             . "org_rate=9/m; } }\n";
    close $f;

    my $day = strftime('%Y%m%d', gmtime(time + $hours * 3600));
    $r->set("ir:quota:user:alice:day:$day", 5);

    my ($rc, $out, $err) = $t->tool('-c', "$d/tool.conf", 'explain', 'alice',
                                    '--ip', '10.1.0.5', '--cert',
                                    "$d/alice.crt", '--env', 'prod',
                                    '--json');
    my $e = eval { decode_json($out) } || {};

    is_deeply([ @{ $e->{quotas}{user} || {} }{qw(daily today)},
                $e->{quotas}{org}{rate} ],
              [ 7, 5, 9 ],
              "$name: the configuration's quotas, and the day's count in "
              . 'its zone')
        or diag($out, $err);

    $r->del("ir:quota:user:alice:day:$day");
}

{
    my (undef, undef, $err) = $t->tool('-c', "$d/nginx.conf", 'explain',
                                       'alice', '--ip', '10.1.0.5', '--json');
    like($err, qr/several ir_access_quota; the first is taken, --quota/,
         'several ir_access_quota: the first taken, and said');
}

# the matrix covered every step's reasons

is_deeply([sort keys %reasons],
          [sort qw(allow maintenance unknown_user bad_record account_locked
                   user_disabled cert_mismatch ip_not_allowed
                   country_not_allowed password_required bad_password
                   org_unknown org_suspended contract_not_active env_mismatch
                   scope_denied purpose_required purpose_not_allowed
                   rate_limited daily_quota_exceeded)],
          'the matrix reaches every reason but those of no record or Redis')
    or diag(explain(\%reasons));

# the denial's line is the gateway's own

for my $case (['badips', '/basic/'], ['sha1', '/basic/'], ['ann', '/full/'],
              ['baddate', '/basic/'], ['other', '/basic/'])
{
    my ($user, $path) = @$case;
    my $mark = $t->log_mark;

    $t->get($path, cert => $user, ip => '10.1.0.5');

    my ($line) = $t->log_since($mark)
                 =~ /\[error\] \d+#\d+: \*\d+ (ir_access: denied user [^\n]*?), client:/;

    my (undef, undef, $e) = tool($user, '10.1.0.5', $path);
    my ($said) = grep { /denied user/ } @{ $e->{gateway_log} };

    is($said, "[error] $line", "$user: the gateway's own denial line")
        or diag($t->log_since($mark));
}

# the gateway's lines about the record are shown as well

(undef, undef, $e) = tool('badips', '10.1.0.5', '/basic/');
ok((grep { /Redis key "ir:user:badips:ips" has entries that are not an IP address.*ignored: (10\.0\.0\.1\/8, bogus|bogus, 10\.0\.0\.1\/8)$/ }
    @{ $e->{gateway_log} }), 'the record\'s log lines are shown');
is($e->{step}, 4, 'the step that denied');
is_deeply([map { $_->{outcome} } @{ $e->{steps} }],
          ['pass', 'pass', 'pass', 'pass', 'deny', ('not reached') x 7],
          'the steps before it passed, those after were not reached');

# plain text: the steps in order, each with what it read

my ($rc, $out) = $t->tool('explain', 'narrow', '--ip', '10.2.0.5',
                          '--cert', "$d/narrow.crt", '--scope',
                          'person.basic', '--env', 'prod');
is($rc, 1, 'plain: denied, exit 1');
like($out, qr/^ 0  maintenance: pass\n      none announced \(ir:maintenance is not there\)\n 1  identity: pass\n.*^ 2  user record: pass\n.*^ 3  certificate pin: pass\n.*^ 4  address: deny\n      the client's address 10\.2\.0\.5 against 1 usable allowlist entries: none matches\n.*^ 5  country: not reached\n.*^10  purpose: not reached\n11  quotas: not reached\nresult: deny, ip_not_allowed \(403\)\ngateway would log: \[error\] ir_access: denied user "narrow" from 10\.2\.0\.5: ip_not_allowed, address is not on the user's allowlist$/ms,
     'plain: the steps, the result and the log line')
    or diag($out);

($rc, $out) = $t->tool('explain', 'narrow', '--ip', '10.1.0.5',
                       '--cert', "$d/narrow.crt", '--scope', 'person.basic',
                       '--env', 'prod');
is($rc, 0, 'plain: allowed, exit 0');
like($out, qr/^      matches 10\.1\.0\.0\/16$/m, 'plain: the entry matched');
like($out, qr/^result: allow \(200\)$/m, 'plain: allowed');

# a certificate of another name: the gateway decides for its CN

($rc, $out) = $t->tool('explain', 'alice', '--ip', '10.1.0.5',
                       '--cert', "$d/tom.crt");
like($out, qr/NOTE: the certificate's CN is "tom": with it the gateway decides for "tom", not for "alice"/,
     'a certificate of another user is named');

# a pin given by its fingerprint, as openssl prints it

($rc, $out) = $t->tool('explain', 'alice', '--ip', '10.1.0.5',
                       '--fingerprint', $t->fingerprint('alice'));
is($rc, 0, '--fingerprint as openssl prints it');

($rc, $out) = $t->tool('explain', 'alice', '--ip', '10.1.0.5',
                       '--fingerprint', $t->fingerprint('tom'));
like($out, qr/^result: deny, cert_mismatch \(403\)$/m,
     '--fingerprint of another certificate');

# wrong usage

($rc, $out, my $err) = $t->tool('explain', 'alice');
is($rc, 2, 'no --ip: exit 2');
like($err, qr/--ip ADDR/, 'no --ip: said');

$t->stop_nginx;
$t->check_log;

done_testing;
