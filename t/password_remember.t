#!/usr/bin/perl

# What a worker remembers of passwords: a password that matched is
# remembered for a while by the worker that checked it, so that bcrypt
# runs once per worker and not once per request; a wrong password is
# never remembered and is hashed every time; a remembered password no
# longer counts once the stored hash has changed; and with
# "ir_access_password_remember off" every login is hashed, as one
# verified longer ago than a place's own time is.  Each count
# is exact: the workers that answered are told by their pid.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use IrTest;

my $t = IrTest->new;

$t->start_redis;
$t->client_cert('alice');

$t->write_config(<<'CONF', workers => 2);
    ir_access_redis %%REDIS%%;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        ir_access on;
        ir_access_password on;
        add_header X-Worker $pid always;

        location /pw/ {
            ir_access_lockout 3 window=1m;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /pw-forget/ {
            ir_access_password_remember off;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /pw-brief/ {
            ir_access_password_remember 1s;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /metrics {
            ir_access off;
            ir_access_status;
        }
    }
CONF
$t->start_nginx;

my $r = $t->redis;

$t->org('bank', name => 'Test Bank');

my $bcrypt = (split /[:\n]/, `htpasswd -nbB x secret`)[1];
$t->user('alice', ips => ['10.0.0.0/8'], password => $bcrypt);

my %in = (cert => 'alice', ip => '10.0.0.1');

# the counters' growth since the last call
my %last;
sub grown {
    my %m = $t->metrics;
    my %d = map { $_ => ($m{"ir_access_passwords_${_}_total"} // 0)
                        - ($last{$_} // 0) } qw(hashed remembered);
    $last{$_} += $d{$_} for keys %d;
    return "hashed $d{hashed}, remembered $d{remembered}";
}

grown();

# six logins: bcrypt once on each worker that answered, the rest
# remembered

my %workers;
for my $n (1 .. 6) {
    my $res = $t->get('/pw/x', %in, user => 'alice:secret');
    $t->allowed($res, "login $n");
    $workers{ $res->{headers}{'x-worker'} // '?' }++;
}
my $w = keys %workers;
is(grown(), "hashed $w, remembered " . (6 - $w),
   "six logins on $w workers: bcrypt ran once a worker, the others "
   . 'were remembered');

# a wrong password is never remembered

$t->denied($t->get('/pw/x', %in, user => 'alice:secreT'), 401,
           'bad_password', "wrong password $_") for 1 .. 2;
is(grown(), 'hashed 2, remembered 0', 'a wrong password is hashed every '
   . 'time');
$r->del('ir:user:alice:fails');

# nor does a remembered password outlive the hash it matched

my $other = (split /[:\n]/, `htpasswd -nbB x other`)[1];
$r->hset('ir:user:alice', 'password', $other);
$t->denied($t->get('/pw/x', %in, user => 'alice:secret'), 401,
           'bad_password', 'a remembered password after the hash changed');
$t->allowed($t->get('/pw/x', %in, user => 'alice:other'),
            'the new password');
is(grown(), 'hashed 2, remembered 0', 'both hashed against the new hash');
$r->del('ir:user:alice:fails');

# remember off: every login hashed, even where the worker remembers the
# password from a place that remembers

my %remembering;
for (1 .. 30) {
    my $res = $t->get('/pw/x', %in, user => 'alice:other');
    $remembering{ $res->{headers}{'x-worker'} // '?' } = 1
        if $res->{status} == 200;
    last if keys %remembering == 2;
}
is(scalar keys %remembering, 2, 'both workers remember the password');
grown();

$t->allowed($t->get('/pw-forget/x', %in, user => 'alice:other'),
            "remember off: login $_") for 1 .. 3;

is(grown(), 'hashed 3, remembered 0', 'remember off: every login hashed');

# a place that remembers briefly takes a password verified longer ago than
# its own time nowhere, whatever place verified it (/pw/ remembers 60s)

%remembering = ();
for (1 .. 30) {
    my $res = $t->get('/pw/x', %in, user => 'alice:other');
    $remembering{ $res->{headers}{'x-worker'} // '?' } = 1
        if $res->{status} == 200;
    last if keys %remembering == 2;
}
sleep 1.5;
grown();

$t->allowed($t->get('/pw-brief/x', %in, user => 'alice:other'),
            'remember 1s: a login');
is(grown(), 'hashed 1, remembered 0',
   'remember 1s: a password verified 1.5s ago is hashed again');

$t->stop_nginx;
$t->check_log;

done_testing;
