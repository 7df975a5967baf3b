#!/usr/bin/perl

# Request quotas: a day's and a minute's limit for a user and for an
# organisation, from the configuration and from the records, an HSET that
# changes one felt at once, typos that narrow access and never widen it,
# the 429 answers and their Retry-After, the counts in Redis, the first
# crossing of a day in the trail once, dry run, a Redis outage while
# counting, a reload that keeps the counts, and the directive's mistakes.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use POSIX qw(strftime mktime);
use Test::More;
use Time::HiRes qw(sleep time);
use IrTest;

my $t = IrTest->new;

$t->start_redis(notify => 'KA');
$t->client_cert($_) for qw(dana rita rob una ulf dora otto rolf tom tim sam sue);

my $conf = <<'CONF';
    ir_access_redis %%REDIS%%;
    ir_access_cache zone=ir:1m ttl=1h;
    ir_access_redis_notify on;
    ir_access_audit stream=ir:audit;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        ir_access on;

        location / {
            ir_access_quota rate=600/m daily=50000;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /daily/ {
            ir_access_quota daily=4;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /rate/ {
            ir_access_quota rate=3/m;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /org/ {
            ir_access_quota org_daily=3;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /dry/ {
            ir_access_mode dry_run;
            ir_access_quota daily=2;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /unlimited/ {
            ir_access_quota off;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location = /metrics {
            ir_access off;
            ir_access_status;
        }
    }
CONF

$t->write_config($conf, workers => 2);
$t->start_nginx;

$t->org('bank', name => 'Bank');
$t->org('small', name => 'Small', daily => 3);
$t->user($_, ips => ['10.0.0.0/8']) for qw(dana rita rob dora otto rolf);
$t->user($_, ips => ['10.0.0.0/8'], org => 'small') for qw(una ulf);
$t->org('tiny', name => 'Tiny', rate => 2);
$t->user($_, ips => ['10.0.0.0/8'], org => 'tiny') for qw(tom tim);
$t->org('solo', name => 'Solo');
$t->user($_, ips => ['10.0.0.0/8'], org => 'solo') for qw(sam sue);

sub as { (cert => $_[0], ip => '10.0.0.1') }

sub today { strftime('%Y%m%d', localtime) }

# what Redis counted of someone today
sub counted {
    my ($who, $name) = @_;
    return $t->redis->get("ir:quota:$who:$name:day:" . today()) // 0;
}

# every count made here is in Redis: no request is waiting for a batch
sub settle {
    my %m;
    for (1 .. 100) {
        %m = $t->metrics;
        last if defined $m{ir_access_quota_unflushed}
                && $m{ir_access_quota_unflushed} == 0;
        sleep 0.05;
    }
    return $m{ir_access_quota_unflushed};
}

# seconds to the next local midnight, as the module computes them
sub to_midnight {
    my @lt = localtime(time);
    return mktime(0, 0, 0, $lt[3] + 1, $lt[4], $lt[5]) - int(time);
}

# the trail's events of a kind, once there are $n (or after five seconds)
sub events {
    my ($event, $n, %match) = @_;
    my @e;
    for (1 .. 100) {
        @e = grep { my $e = $_; $e->{event} eq $event
                    && !grep { ($e->{$_} // '') ne $match{$_} } keys %match }
             $t->audit_entries(events => 1);
        last if @e >= $n;
        sleep 0.05;
    }
    return @e;
}

# the minute tests begin at least 20 s before the minute ends
sub quiet_minute {
    my $s = time % 60;
    sleep(61 - $s) if $s > 40;
}

# near midnight the day would end under the test
if (to_midnight() < 120) {
    sleep(to_midnight() + 2);
}

# a day's limit from the configuration -----------------------------------

my $mark = $t->log_mark;

$t->allowed($t->get('/daily/p', as('dana')), "dana, request $_") for 1 .. 4;

my $res = $t->get('/daily/p', as('dana'));
$t->denied($res, 429, 'daily_quota_exceeded', 'dana over her day');

my $expect = to_midnight();
cmp_ok($res->{headers}{'retry-after'}, '>=', $expect - 2,
       'daily: Retry-After is the seconds to midnight (low bound)');
cmp_ok($res->{headers}{'retry-after'}, '<=', $expect + 1,
       'daily: Retry-After is the seconds to midnight (high bound)');

$t->denied($t->get('/daily/p', as('dana')), 429, 'daily_quota_exceeded',
           'dana again') for 1 .. 2;

is(settle(), 0, 'the counts reached Redis');
is(counted('user', 'dana'), 4, 'Redis counted the 4 allowed, not the 3 refused');
is($t->redis->get('ir:quota:user:dana:over:' . today()), 1,
   'the crossing is marked for the day');

my $log = $t->log_since($mark);
my @warn = $log =~ /\[warn\].*the daily quota of user "dana", 4 requests a day, is reached; refused until the day ends in \d+s/g;
is(scalar @warn, 1, 'the crossing is logged once, at warn');
like($log, qr/\[info\].*denied user "dana" from .*: daily_quota_exceeded, user's daily quota is spent for today: "dana"/,
     'each refusal is logged at info');

my @ev = events('quota_exceeded', 1);
is(scalar @ev, 1, 'one quota_exceeded event');
is_deeply({ map { $_ => $ev[0]{$_} } qw(quota who user org limit day mode) },
          { quota => 'daily', who => 'user', user => 'dana', org => 'bank',
            limit => 4, day => strftime('%Y-%m-%d', localtime),
            mode => 'enforce' },
          'the event says whose quota, which, and when');

my %m = $t->metrics;
is($m{'ir_access_quota_exceeded_total{mode="enforce",kind="daily",who="user"}'},
   3, 'metric: three refusals over a user\'s day');
is($m{'ir_access_requests_total{mode="enforce",decision="deny",reason="daily_quota_exceeded"}'},
   3, 'metric: the reason counted');

$t->allowed($t->get('/unlimited/p', as('dana')), 'quotas off: dana still served');

# an organisation's day, from its record -----------------------------------

$t->allowed($t->get('/', as('una')), 'una of small, 1');
$t->allowed($t->get('/', as('una')), 'una of small, 2');
$t->allowed($t->get('/', as('ulf')), 'ulf of small, 3');
$t->denied($t->get('/', as('ulf')), 429, 'daily_quota_exceeded',
           'small has spent its day: ulf');
$t->denied($t->get('/', as('una')), 429, 'daily_quota_exceeded',
           'small has spent its day: una');

is(settle(), 0, 'settled');
is(counted('org', 'small'), 3, 'Redis counted the organisation\'s 3');
is(counted('user', 'una'), 2, 'and each user\'s own: una 2');
is(counted('user', 'ulf'), 1, 'ulf 1');

@ev = events('quota_exceeded', 1, who => 'organisation');
is(scalar @ev, 1, 'one event for the organisation');
is($ev[0]{org}, 'small', 'naming it');
like($t->error_log,
     qr/\[warn\].*the daily quota of organisation "small", 3 requests a day, is reached by user "ulf"; refused/,
     'the organisation\'s crossing logged with the user whose request crossed it');

# raised with one HSET: felt at once, through the notification
$t->redis->hset('ir:org:small', 'daily', 5);
is($t->poll_status('/', 200, as('ulf')), 200,
   'HSET daily 5: ulf served again');
$t->allowed($t->get('/', as('una')), 'and una, the 5th');
$t->denied($t->get('/', as('una')), 429, 'daily_quota_exceeded',
           'and the 6th refused');

# a typo never widens access
$mark = $t->log_mark;
$t->expect_error(qr/ir_access: the record "ir:org:small" is unusable: field "daily" is not a number of requests a day from 0 to 1000000000; /);
$t->redis->hset('ir:org:small', 'daily', '5O');
is($t->poll_status('/', 403, as('una')), 403, 'a typo in an organisation\'s daily: refused');
$t->denied($t->get('/', as('una')), 403, 'bad_record', 'as a bad record');
like($t->log_since($mark),
     qr/the record "ir:org:small" is unusable: field "daily" is not a number of requests a day/,
     'the typo is logged');
$t->redis->hset('ir:org:small', 'daily', 6);
is($t->poll_status('/', 200, as('una')), 200, 'fixed: served');

# an organisation's day from the configuration: org_daily=

$t->allowed($t->get('/org/p', as('sam')), 'solo: sam, 1');
$t->allowed($t->get('/org/p', as('sue')), 'solo: sue, 2');
$t->allowed($t->get('/org/p', as('sam')), 'solo: sam, 3');
$t->denied($t->get('/org/p', as('sue')), 429, 'daily_quota_exceeded',
           'org_daily=3: sue refused with her organisation');
$t->allowed($t->get('/unlimited/p', as('sue')), 'elsewhere sue is served');

# a minute's limit --------------------------------------------------------

quiet_minute();

$t->allowed($t->get('/rate/p', as('rita')), "rita, request $_") for 1 .. 3;

my $before = 60 - time % 60;
$res = $t->get('/rate/p', as('rita'));
my $after = 60 - time % 60;
$t->denied($res, 429, 'rate_limited', 'rita over her minute');
cmp_ok($res->{headers}{'retry-after'}, '>=', $after - 1,
       'rate: Retry-After is the rest of the minute (low bound)');
cmp_ok($res->{headers}{'retry-after'}, '<=', $before + 1,
       'rate: Retry-After is the rest of the minute (high bound)');
cmp_ok($res->{headers}{'retry-after'}, '<=', 60, 'rate: at most a minute');

# the record's own rate: rob has 2 a minute in a place that gives 600
$t->redis->hset('ir:user:rob', 'rate', 2);
$t->allowed($t->get('/', as('rob')), "rob, request $_") for 1 .. 2;
$t->denied($t->get('/', as('rob')), 429, 'rate_limited', 'rob over his own 2');

# an organisation's minute, from its record
$t->allowed($t->get('/', as('tom')), 'tiny: tom, 1');
$t->allowed($t->get('/', as('tim')), 'tiny: tim, 2');
my $res_tiny = $t->get('/', as('tom'));
$t->denied($res_tiny, 429, 'rate_limited', 'tiny\'s 2 a minute: tom refused');
cmp_ok($res_tiny->{headers}{'retry-after'}, '<=', 60,
       'an organisation\'s minute: Retry-After within the minute');

%m = $t->metrics;
is($m{'ir_access_quota_exceeded_total{mode="enforce",kind="rate",who="user"}'},
   2, 'metric: two refusals over a user\'s minute');
is($m{'ir_access_quota_exceeded_total{mode="enforce",kind="rate",who="org"}'},
   1, 'metric: one over an organisation\'s minute');

is(settle(), 0, 'settled');
my $minute = strftime('%Y%m%d%H%M', gmtime);
is($t->redis->get("ir:quota:user:rob:minute:$minute"), 2,
   'Redis counted rob\'s minute');
cmp_ok($t->redis->pttl("ir:quota:user:rob:minute:$minute"), '>', 60000,
       'the minute\'s counter expires');
cmp_ok($t->redis->pttl("ir:quota:user:rob:minute:$minute"), '<=', 120000,
       'within two minutes');
cmp_ok($t->redis->pttl('ir:quota:user:rob:day:' . today()), '>', 86400000,
       'the day\'s counter outlives the day');

$t->redis->hset('ir:user:rob', 'rate', 4);
is($t->poll_status('/', 200, as('rob')), 200, 'HSET rate 4: rob served at once');
$t->redis->hset('ir:user:rob', 'rate', 0);
is($t->poll_status('/', 429, as('rob')), 429, 'HSET rate 0: rob refused at once');

$t->expect_error(qr/ir_access: the record "ir:user:rob" is unusable: field "rate" is not a number of requests a minute from 0 to 1000000000; /);
$t->redis->hset('ir:user:rob', 'rate', '-1');
is($t->poll_status('/', 403, as('rob')), 403, 'rate -1 is a typo');
$t->denied($t->get('/', as('rob')), 403, 'bad_record', 'rob\'s bad record');
$t->redis->hdel('ir:user:rob', 'rate');
is($t->poll_status('/', 200, as('rob')), 200, 'rate removed: the default again');

# dry run reports and lets through ------------------------------------------

$mark = $t->log_mark;
$t->allowed($t->get('/dry/p', as('dora')), "dora, request $_") for 1 .. 2;
$t->allowed($t->get('/dry/p', as('dora')), 'dry run: the 3rd goes on');
like($t->log_since($mark),
     qr/\[info\].*dry run, would deny user "dora" .*daily_quota_exceeded/,
     'dry run: logged as what it would do');
like($t->log_since($mark),
     qr/\[warn\].*dry run: the daily quota of user "dora", 2 requests a day, is reached; would be refused until the day ends/,
     'dry run: the crossing at warn');
is(settle(), 0, 'settled');
is(counted('user', 'dora'), 2, 'dry run counts what enforce would have let through');
%m = $t->metrics;
is($m{'ir_access_quota_exceeded_total{mode="dry_run",kind="daily",who="user"}'},
   1, 'metric: dry run apart');

@ev = events('quota_exceeded', 1, user => 'dora');
is($ev[0]{mode}, 'dry_run', 'the event says dry run');

# a Redis outage while counting: counted here, added to Redis after ------

$t->allowed($t->get('/daily/p', as('otto')), "otto, before the outage $_")
    for 1 .. 2;
is(settle(), 0, 'settled');
is(counted('user', 'otto'), 2, 'two counted before the outage');

$t->redis->save;
$t->expect_redis_down;
$t->stop_redis;

$t->allowed($t->get('/daily/p', as('otto')), 'Redis down: otto decided from the cache, 3rd');
$t->allowed($t->get('/daily/p', as('otto')), 'Redis down: 4th');
$t->denied($t->get('/daily/p', as('otto')), 429, 'daily_quota_exceeded',
           'Redis down: the limit still holds on the host');
sleep 0.3;
%m = $t->metrics;
is($m{ir_access_quota_unflushed}, 2, 'two counts wait for Redis');

$t->start_redis(notify => 'KA');
is(settle(), 0, 'Redis back: the counts went');
is(counted('user', 'otto'), 4, 'Redis has all four');
is(scalar(events('quota_exceeded', 1, user => 'otto')), 1,
   'the crossing during the outage is in the trail');

# a reload keeps the counts --------------------------------------------

$t->allowed($t->get('/daily/p', as('rolf')), "rolf, before the reload $_")
    for 1 .. 3;
$t->reload_nginx;
sleep 0.5;
$t->allowed($t->get('/daily/p', as('rolf')), 'after the reload: the 4th');
$t->denied($t->get('/daily/p', as('rolf')), 429, 'daily_quota_exceeded',
           'after the reload: the 5th refused');
is(settle(), 0, 'settled');
is(counted('user', 'rolf'), 4, 'Redis counted each once across the reload');

$t->stop_nginx;
$t->check_log;

# the directive's mistakes ------------------------------------------------

my $t2 = $t->instance('bad');

for my $case (
    [ 'rate=10/s', qr/invalid quota "rate=10\/s": requests a minute, written N\/m/ ],
    [ 'rate=0/m', qr/invalid quota "rate=0\/m"/ ],
    [ 'daily=1e6', qr/invalid quota "daily=1e6": requests a day/ ],
    [ 'daily=2000000000', qr/invalid quota "daily=2000000000"/ ],
    [ 'burst=5', qr/invalid parameter "burst=5"/ ],
    [ 'daily=5 daily=6', qr/duplicate "daily=6"/ ],
    [ "daily=5;\n ir_access_quota off", qr/"ir_access_quota" directive is duplicate/ ],
)
{
    $t2->write_config("ir_access_redis %%REDIS%%;\n"
                      . IrTest->guarded_server("ir_access_quota $case->[0];"));
    my ($ok, $out) = $t2->test_config;
    ok(!$ok, "nginx -t refuses ir_access_quota $case->[0]");
    like($out, $case->[1], 'and says why') or diag($out);
}

$t2->write_config("ir_access_redis %%REDIS%%;\nir_access_quota_zone 4k;\n"
                  . IrTest->guarded_server('ir_access_quota daily=5;'));
my ($ok, $out) = $t2->test_config;
ok(!$ok, 'nginx -t refuses a quota zone of 4k');
like($out, qr/"ir_access_quota_zone" of 4096 bytes is too small/, 'and says why');

$t2->write_config("ir_access_redis %%REDIS%%;\nir_access_quota_zone 64k;\n"
                  . IrTest->guarded_server('ir_access_quota rate=10/m '
                                           . 'daily=100 org_rate=20/m '
                                           . 'org_daily=1000;'));
($ok, $out) = $t2->test_config;
ok($ok, 'nginx -t takes every parameter') or diag($out);

done_testing;
