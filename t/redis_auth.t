#!/usr/bin/perl

# Redis credentials kept out of nginx.conf: "password_file=" is read by
# the master as root (a file the workers cannot read), one trailing newline
# dropped, and "nginx -T" never shows the secret; a wrong one is a refused
# AUTH, logged, and nothing is let through.  Sentinels that require a
# password (or an ACL user) are sent AUTH before they are asked where the
# master is ("sentinel_user=", "sentinel_password=",
# "sentinel_password_file=").  Mistakes stop "nginx -t".

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Redis;
use Time::HiRes qw(sleep time);
use IrTest;

my $t = IrTest->new;
my $d = $t->dir;

my $r = $t->start_redis;
$t->client_cert('alice');

my $secret = 'Gate-' . join('', map { ('a' .. 'z')[rand 26] } 1 .. 24);

sub write_file {
    my ($name, $content, $mode) = @_;
    open my $f, '>', "$d/$name" or die "$d/$name: $!";
    print $f $content;
    close $f;
    chmod $mode // 0600, "$d/$name";
    return "$d/$name";
}

# the module's ACL user; the default user needs a password from now on

$r->acl('SETUSER', 'gate', 'on', ">$secret", '~ir:*', '&*', '+@all');
$r->config('set', 'requirepass', 'admin-only');

$t->org('bank', name => 'Bank');
$t->user('alice', ips => ['10.0.0.0/8']);

my %alice = (cert => 'alice', ip => '10.0.0.1');

# the file as "echo" writes it, readable by root alone: the workers run
# as nobody and could not open it

my $file = write_file('redis.pw', "$secret\n", 0600);
is((stat $file)[2] & 0777, 0600, 'the password file is for root alone');

my $server = IrTest->guarded_server;

$t->write_config("ir_access_redis %%REDIS%% user=gate "
                 . "password_file=$file;\n$server");
$t->start_nginx;

$t->allowed($t->get('/x', %alice),
            'the ACL user\'s password read from the file');

my $dump = `$t->{nginx} -p $d -c $d/nginx.conf -T 2>&1`;
is($?, 0, 'nginx -T');
like($dump, qr/password_file=\Q$file\E/, 'nginx -T shows the file\'s name');
unlike($dump, qr/\Q$secret\E/, 'and never the password');
unlike($t->error_log, qr/\Q$secret\E/, 'nor does the error log');

# a wrong password in the file: AUTH refused, nothing decided

write_file('wrong.pw', "not-the-password\n");
$t->write_config("ir_access_redis %%REDIS%% user=gate "
                 . "password_file=$d/wrong.pw;\n$server");
$t->expect_error(qr/ir_access: Redis at "\Q${\ $t->redis_addr }\E" refused the connection's set-up: WRONGPASS /);
my $mark = $t->log_mark;
$t->reload_nginx;
sleep 1;

$t->denied($t->get('/x', %alice), 503, 'store_unavailable',
           'a wrong password in the file');
like($t->log_since($mark),
     qr/\[error\].*Redis at "127\.0\.0\.1:\d+" refused the connection's set-up: WRONGPASS/,
     'the refused AUTH is logged');

# a file with "\r\n", and a relative name (from the prefix, -p)

write_file('crlf.pw', "$secret\r\n");
$t->write_config("ir_access_redis %%REDIS%% user=gate "
                 . "password_file=crlf.pw;\n$server");
$t->reload_nginx;
is($t->poll_status('/x', 200, %alice), 200,
   'a relative file name, with a CRLF line end');

$t->stop_nginx;

# mistakes stop nginx -t

sub config_fails {
    my ($redis, $message, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    $t->write_config("ir_access_redis $redis;\n$server");
    my ($ok, $out) = $t->test_config;
    ok(!$ok, "$name: nginx -t fails");
    like($out, $message, "$name: the message says why");
    unlike($out, qr/\Q$secret\E/, "$name: without the password");
}

write_file('empty.pw', '');
write_file('newline.pw', "\n");
write_file('two.pw', "gate\n$secret\n");
write_file('long.pw', 'x' x 1025);

config_fails("%%REDIS%% password=x password_file=$file",
             qr/\[emerg\].*"password=" and "password_file=" are mutually exclusive/,
             'both password= and password_file=');
config_fails("%%REDIS%% password_file=$d/missing.pw",
             qr/\[emerg\].*cannot read the Redis password from "\Q$d\E\/missing\.pw".*No such file/,
             'a missing file');
config_fails("%%REDIS%% password_file=$d/empty.pw",
             qr/\[emerg\].*the Redis password file "\Q$d\E\/empty\.pw" is empty/,
             'an empty file');
config_fails("%%REDIS%% password_file=$d/newline.pw",
             qr/\[emerg\].*is empty/, 'a file with a newline alone');
config_fails("%%REDIS%% password_file=$d/two.pw",
             qr/\[emerg\].*"\Q$d\E\/two\.pw" has more than one line/,
             'a file of two lines');
config_fails("%%REDIS%% password_file=$d/long.pw",
             qr/\[emerg\].*is longer than 1024 bytes/, 'a file too long');
config_fails("%%REDIS%% password_file=",
             qr/\[emerg\].*no file name in Redis "password_file="/,
             'no file name');
config_fails("%%REDIS%% user=gate",
             qr/\[emerg\].*"user=" requires "password=" or "password_file="/,
             'a user without a password');
config_fails("%%REDIS%% sentinel_password=x",
             qr/\[emerg\].*require "sentinel="/,
             'a Sentinel password without Sentinels');
config_fails("127.0.0.1:1 sentinel=reg sentinel_user=watch",
             qr/\[emerg\].*"sentinel_user=" requires "sentinel_password=" or "sentinel_password_file="/,
             'a Sentinel user without a password');
config_fails("127.0.0.1:1 sentinel=reg sentinel_password=x "
             . "sentinel_password_file=$file",
             qr/\[emerg\].*"sentinel_password=" and "sentinel_password_file=" are mutually exclusive/,
             'both Sentinel passwords');
config_fails("127.0.0.1:1 sentinel=reg sentinel_password_file=$d/empty.pw",
             qr/\[emerg\].*the Redis sentinel_password file ".*empty\.pw" is empty/,
             'an empty Sentinel password file');

# Sentinels that require a password, and an ACL user of their own

my $sentinel_secret = 'Watch-' . join('', map { ('a' .. 'z')[rand 26] } 1 .. 24);
my $master_port = $t->redis_port;

my $sentinel = $t->start_redis(name => 'sentinel', sentinel => 1, config => [
    "requirepass $sentinel_secret",
    "user watcher on >$sentinel_secret-watcher ~* &* +\@all",
    "sentinel monitor reg 127.0.0.1 $master_port 1",
    'sentinel auth-user reg gate',
    "sentinel auth-pass reg $secret",
    'sentinel down-after-milliseconds reg 5000',
]);
my $sentinel_port = $t->redis_port('sentinel');

ok($sentinel, 'a Sentinel that requires a password');

my $sentinels = "127.0.0.1:$sentinel_port sentinel=reg user=gate "
                . "password_file=$file";

write_file('sentinel.pw', "$sentinel_secret\n");

$t->write_config("ir_access_redis $sentinels "
                 . "sentinel_password_file=$d/sentinel.pw;\n$server");
$t->start_nginx;

my $res;
for (1 .. 50) {
    $res = $t->get('/x', %alice);
    last if $res->{status} == 200;
    sleep 0.1;
}
$t->allowed($res, 'the Sentinel\'s password from a file');
like($t->error_log,
     qr/Sentinel at "127\.0\.0\.1:$sentinel_port" names 127\.0\.0\.1:$master_port as master "reg"/,
     'the Sentinel named the master');

$dump = `$t->{nginx} -p $d -c $d/nginx.conf -T 2>&1`;
unlike($dump, qr/\Q$sentinel_secret\E/, 'nginx -T shows no Sentinel password');

# the Sentinel's ACL user

# (a password of its own: the default user's would not do)

write_file('watcher.pw', "$sentinel_secret-watcher\n");

$t->stop_nginx;
$t->write_config("ir_access_redis $sentinels sentinel_user=watcher "
                 . "sentinel_password_file=$d/watcher.pw;\n$server");
$t->start_nginx;

is($t->poll_status('/x', 200, %alice), 200,
   'the Sentinel\'s ACL user, "sentinel_user="');

# a wrong Sentinel password: refused, logged, nothing decided

$t->stop_nginx;
$t->write_config("ir_access_redis $sentinels "
                 . "sentinel_password=wrong;\n$server");
$t->expect_error(qr/ir_access: Sentinel at "127\.0\.0\.1:$sentinel_port" refused the connection's set-up: WRONGPASS /,
                 qr/ir_access: Sentinel at "127\.0\.0\.1:$sentinel_port" did not answer/);
$mark = $t->log_mark;
$t->start_nginx;

sleep 0.5;
$t->denied($t->get('/x', %alice), 503, 'store_unavailable',
           'a wrong Sentinel password');

my $log = '';
for (1 .. 50) {
    $log = $t->log_since($mark);
    last if $log =~ /Sentinel at .* refused/;
    sleep 0.1;
}
like($log,
     qr/\[error\].*Sentinel at "127\.0\.0\.1:$sentinel_port" refused the connection's set-up: WRONGPASS.*check "sentinel_user=" and "sentinel_password="/,
     'the Sentinel\'s refused AUTH is logged with what to check');
unlike($log, qr/names .* as master/, 'and no master is taken from it');

# none at all: the Sentinel says so

$t->stop_nginx;
$t->write_config("ir_access_redis $sentinels;\n$server");
$t->expect_error(qr/ir_access: Sentinel at "127\.0\.0\.1:$sentinel_port" answered: NOAUTH /);
$mark = $t->log_mark;
$t->start_nginx;

sleep 0.5;
$t->denied($t->get('/x', %alice), 503, 'store_unavailable',
           'no Sentinel password');

for (1 .. 50) {
    $log = $t->log_since($mark);
    last if $log =~ /Sentinel at .* answered: NOAUTH/;
    sleep 0.1;
}
like($log, qr/Sentinel at "127\.0\.0\.1:$sentinel_port" answered: NOAUTH/,
     'the Sentinel\'s NOAUTH is logged');

$t->stop_nginx;
$t->check_log;

done_testing;
