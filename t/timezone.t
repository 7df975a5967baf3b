#!/usr/bin/perl

# Contract dates are calendar days in "ir_access_timezone", whatever zone
# the host runs in: tried in the zones furthest apart, UTC+14 and UTC-12,
# whose dates always differ (and at least one of them differs from UTC's),
# with contracts that end today and begin tomorrow in each.  The zone in
# effect is logged at start; an unknown zone stops "nginx -t".

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use POSIX qw(strftime);
use Test::More;
use IrTest;

my $t = IrTest->new;

$t->start_redis;
$t->client_cert('alice');

$t->org('bank', name => 'Bank');
$t->user('alice', ips => ['10.0.0.0/8']);

my %alice = (cert => 'alice', ip => '10.0.0.1');

# POSIX's "Etc/GMT-14" is fourteen hours east of UTC
for my $zone ([ 'Etc/GMT-14', 14 ], [ 'Etc/GMT+12', -12 ]) {
    my ($name, $hours) = @$zone;

    my $day = sub { strftime('%Y-%m-%d', gmtime(time + $hours * 3600
                                                 + $_[0] * 86400)) };

    $t->write_config("ir_access_redis %%REDIS%%;\n"
                     . "ir_access_timezone $name;\n"
                     . IrTest->guarded_server);
    $t->start_nginx;

    like($t->error_log, qr/\[notice\].*contract dates are days in \Q$name\E/,
         "$name: the zone is logged at start");

    $t->org('bank', name => 'Bank', valid_to => $day->(0));
    $t->allowed($t->get('/', %alice), "$name: a contract that ends today");

    $t->org('bank', name => 'Bank', valid_to => $day->(-1));
    $t->denied($t->get('/', %alice), 403, 'contract_not_active',
               "$name: a contract that ended yesterday");

    $t->org('bank', name => 'Bank', valid_from => $day->(0));
    $t->allowed($t->get('/', %alice), "$name: a contract that begins today");

    $t->org('bank', name => 'Bank', valid_from => $day->(1));
    $t->denied($t->get('/', %alice), 403, 'contract_not_active',
               "$name: a contract that begins tomorrow");

    $t->stop_nginx;
}

# an unknown zone is no UTC

$t->write_config("ir_access_redis %%REDIS%%;\n"
                 . "ir_access_timezone Europe/Atlantis;\n"
                 . IrTest->guarded_server);
my ($ok, $out) = $t->test_config;
ok(!$ok, 'an unknown zone: nginx -t fails');
like($out, qr/unknown time zone "Europe\/Atlantis"/, 'and says why');

$t->write_config("ir_access_redis %%REDIS%%;\n"
                 . "ir_access_timezone ../../etc/passwd;\n"
                 . IrTest->guarded_server);
($ok, $out) = $t->test_config;
ok(!$ok, 'a path: nginx -t fails');
like($out, qr/invalid time zone/, 'and says why');

$t->check_log;

done_testing;
