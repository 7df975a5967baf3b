#!/usr/bin/perl

# Reloads and a binary upgrade under continuous load, with the cache and
# notifications on: no request is lost, the cache outlives them, and no
# Redis connection leaks.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use POSIX qw(:sys_wait_h);
use Test::More;
use Time::HiRes qw(sleep);
use IrTest;

my $t = IrTest->new;

$t->start_redis(notify => 'KA');
$t->client_cert('alice');

$t->write_config("ir_access_redis %%REDIS%%;\n"
                 . "ir_access_cache zone=ir:1m ttl=1h;\n"
                 . "ir_access_redis_notify on;\n"
                 . IrTest->guarded_server, workers => 2);
$t->start_nginx;

$t->org('bank', name => 'Bank');
$t->user('alice', ips => ['10.0.0.0/8']);

my %alice = (cert => 'alice', ip => '10.0.0.1');


sub settled_clients {
    my ($want) = @_;
    my $n;
    for (1 .. 100) {
        $n = $t->nginx_clients;
        last if $n <= $want;
        sleep 0.1;
    }
    return $n;
}

$t->allowed($t->get('/', %alice), 'before the load');

# four clients in a loop until told to stop
my $stop = $t->dir . '/stop';
my @loops;
for my $i (1 .. 4) {
    my $out = $t->dir . "/loop-$i";
    my $pid = fork // die;
    if ($pid == 0) {
        open my $f, '>', $out or POSIX::_exit(1);
        $f->autoflush(1);
        until (-e $stop) {
            print $f $t->get('/', %alice)->{status}, "\n";
        }
        close $f;
        POSIX::_exit(0);
    }
    push @loops, [ $pid, $out ];
}

sleep 0.5;

for (1 .. 10) {
    $t->reload_nginx;
    sleep 0.3;
}

# a binary upgrade: a new master next to the old, then the old one goes

my $old = $t->nginx_pid;
kill 'USR2', $old;

my $new;
for (1 .. 100) {
    $new = $t->nginx_pid;
    last if $new && $new != $old && -e $t->dir . '/nginx.pid.oldbin';
    sleep 0.05;
}
isnt($new, $old, 'binary upgrade: a new master started');

sleep 0.5;
kill 'WINCH', $old;
sleep 0.5;
kill 'QUIT', $old;
for (1 .. 100) {
    last unless kill 0, $old;
    sleep 0.05;
}
ok(!kill(0, $old), 'binary upgrade: the old master left');

sleep 0.5;

open my $s, '>', $stop or die;
close $s;
waitpid $_->[0], 0 for @loops;

my ($total, @bad) = (0);
for my $l (@loops) {
    open my $f, '<', $l->[1] or die;
    while (<$f>) {
        chomp;
        $total++;
        push @bad, $_ if $_ ne '200';
    }
}

cmp_ok($total, '>', 50, "requests made during the reloads: $total");
is(scalar @bad, 0, 'none lost or refused during ten reloads and an upgrade')
    or diag("statuses: @bad");

# at most one connection per worker and the notification subscriber
$t->allowed($t->get('/', %alice), 'after the upgrade');
cmp_ok(settled_clients(3), '<=', 3,
       'no Redis connection leaked: two workers and one subscriber at most');

# a reload while passwords are being hashed in the thread pool: the old
# worker stays until each of those requests is answered

$t->stop_nginx;
is(settled_clients(0), 0, 'nginx stopped: no Redis connection left');
$t->check_log;

my $t2 = $t->instance('pw');
$t2->write_config("ir_access_redis %%REDIS%%;\n"
                  . IrTest->guarded_server('ir_access_password on; '
                                           . 'ir_access_lockout off; '
                                           . 'ir_access_password_remember '
                                           . 'off;'),
                  workers => 1);
$t2->start_nginx;

# bcrypt at cost 12: a quarter of a second and more per check
$t->user('alice', ips => ['10.0.0.0/8'],
         password => crypt('secret', '$2b$12$abcdefghijklmnopqrstuu'));

my @bg = map { $t2->start_get('/', %alice, user => 'alice:secret',
                              timeout => 60) } 1 .. 20;
sleep 0.3;
$t2->reload_nginx;

my @got = map { $t2->collect($_) } @bg;
is(scalar(grep { $_->{status} == 200 } @got), 20,
   'a reload while 20 passwords are hashed: every request answered')
    or diag(join ' ', map { $_->{status} } @got);
unlike($t2->error_log, qr/open socket .* left in connection/,
       'no connection left open by the old worker');

$t2->stop_nginx;
$t2->check_log;

done_testing;
