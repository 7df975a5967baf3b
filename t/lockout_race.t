#!/usr/bin/perl

# Parallel password guesses cannot outrun the lock: each login that is
# compared has first taken one of the places that may still fail, in
# Redis, atomically; so however many guesses arrive at once, as streams
# of one HTTP/2 connection or over many connections and workers, with a
# fast hash or a slow one, at most the limit of wrong passwords is ever
# compared, and the right password sent after them is refused.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep);
use IrTest;

my $t = IrTest->new;

$t->start_redis;
$t->client_cert('alice');

$t->write_config(IrTest->http2(<<'CONF'), workers => 2);
    ir_access_redis %%REDIS%%;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        ir_access on;
        ir_access_password on;
        ir_access_lockout 5;

        location / {
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

$t->org('bank', name => 'Bank');

my %hashes = (
    fast => '{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=',
    slow => crypt('secret', '$2b$08$abcdefghijklmnopqrstuu'),
);

sub race {
    my ($kind, %how) = @_;
    my $name = "$kind hash, $how{name}";

    $t->user('alice', ips => ['10.0.0.0/8'], password => $hashes{$kind});
    $r->del('ir:user:alice:fails', 'ir:user:alice:tries');

    my $mark = $t->log_mark;
    my %m = $t->metrics;
    my $hashed = $m{ir_access_passwords_hashed_total};

    # 99 wrong guesses, each another, then the right password

    my @q = map { [ '/x', user => "alice:guess$_" ] } 1 .. 99;
    push @q, [ '/x', user => 'alice:secret' ];

    my ($res, $connects);

    if ($how{http2}) {
        ($res, $connects) = $t->parallel(\@q, cert => 'alice',
                                         ip => '10.0.0.1', http2 => 1);
        is($connects, 1, "$name: one connection");

    } else {
        $res = [ map { $t->collect($_) }
                 map { my ($p, %o) = @$_;
                       $t->start_get($p, cert => 'alice', ip => '10.0.0.1',
                                     %o) } @q ];
    }

    my %by;
    for my $x (@$res[0 .. 98]) {
        my ($reason) = $x->{body} =~ /"error":"(\w+)"/;
        $by{"$x->{status} " . ($reason // '')}++;
    }

    is($by{'401 bad_password'} // 0, 5,
       "$name: 5 wrong passwords compared, the limit");
    is(($by{'401 bad_password'} // 0) + ($by{'403 account_locked'} // 0), 99,
       "$name: the others refused as locked")
        or diag(explain \%by);

    $t->denied($res->[99], 403, 'account_locked',
               "$name: the right password after the guesses");

    is($r->hget('ir:user:alice', 'status'), 'locked', "$name: locked");

    my @locks = $t->log_since($mark) =~ /user "alice" locked after/g;
    is(scalar @locks, 1, "$name: locked exactly once");

    my @compared = $t->log_since($mark) =~ /password does not match/g;
    is(scalar @compared, 5, "$name: the log agrees");

    if ($kind eq 'slow') {
        %m = $t->metrics;
        is($m{ir_access_passwords_hashed_total} - $hashed, 5,
           "$name: the 5 wrong ones hashed, and nothing else");
    }

    for (1 .. 50) {
        last unless $r->exists('ir:user:alice:tries');
        sleep 0.05;
    }
    ok(!$r->exists('ir:user:alice:tries'), "$name: no place left taken");
    ok(!$r->exists('ir:user:alice:fails'), "$name: no counter left");
}

$t->expect_error(qr/ir_access: user "alice" locked after 5 failed logins; /);

race('fast', http2 => 1, name => '100 HTTP/2 streams');
race('slow', http2 => 1, name => '100 HTTP/2 streams');
race('fast', name => '100 connections');
race('slow', name => '100 connections');

# a burst of the right password is no attack: nobody is locked, and every
# request is answered once a first one has verified it

$t->user('alice', ips => ['10.0.0.0/8'], password => $hashes{slow});
my ($res) = $t->parallel([ map { [ '/x' ] } 1 .. 30 ], cert => 'alice',
                         ip => '10.0.0.1', user => 'alice:secret',
                         http2 => 1);
is(scalar(grep { $_->{status} == 200 } @$res), 30,
   'thirty parallel requests with the right password: all allowed');
is($r->hget('ir:user:alice', 'status') // '', '', 'nobody locked');

$t->stop_nginx;
$t->check_log;

done_testing;
