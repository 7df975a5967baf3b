#!/usr/bin/perl

# ir-access report: organisations with their contracts and users, those
# with more users than their contract covers ("users", 5 by default),
# users with more than one allowlisted address, certificates that expire
# within N days and users not seen for N days, from the "seen:" hashes
# the gateway writes; in JSON and as tables.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP;
use POSIX qw(strftime);
use Test::More;
use IrTest;

my $t = IrTest->new;

$t->start_redis;
my $r = $t->redis;

sub pin { join ':', map { sprintf '%02X', ($_[0] + $_) % 256 } 0 .. 31 }

sub hex_pin { my $p = lc pin($_[0]); $p =~ s/://g; $p }

sub iso {
    strftime('%Y-%m-%dT%H:%M:%S.000Z', gmtime(time + $_[0] * 86400));
}

sub org {
    my ($name, %f) = @_;
    my $scopes = delete $f{scopes} // ['person.basic'];
    $r->hset("ir:org:$name", $_, $f{$_}) for sort keys %f;
    $r->sadd("ir:org:$name:scopes", @$scopes);
}

sub user {
    my ($name, $org, $n, @ips) = @_;
    $r->hset("ir:user:$name", org => $org, cert => pin($n), unit => "u-$name",
             status => 'active');
    $r->sadd("ir:user:$name:ips", @ips) if @ips;
}

sub seen {
    my ($name, %f) = @_;
    $r->hset("ir:seen:$name", $_, $f{$_}) for sort keys %f;
}

# bank covers 2 users and has 3; small covers the default 5 and has 1

org('bank', name => 'Demo Bank', contract => 'C-1', env => 'prod',
    valid_from => '2026-01-01', valid_to => '2027-12-31', users => 2,
    scopes => ['person.basic', 'person.address']);
org('small', name => 'Small Co', contract => 'C-2', env => 'prod test');
org('empty', name => 'Nobody Inc');

user('alice', 'bank', 1, '10.0.0.1', '10.0.0.2');
user('bob', 'bank', 2, '10.1.0.0/24');
user('carl', 'bank', 3, '10.2.0.1');
user('dave', 'small', 4, '10.3.0.1');
user('eve', 'ghost', 5, '10.4.0.1');

# alice seen yesterday, her certificate ends in 10 days; bob seen 100
# days ago, his in 100; dave's certificate that ends in 5 days was rolled
# over (the fingerprint seen is no longer pinned); carl and eve never seen

seen('alice', last_seen => iso(-1), last_ip => '10.0.0.1',
     not_after => iso(10), fingerprint => hex_pin(1));
seen('bob', last_seen => iso(-100), last_ip => '10.1.0.7',
     not_after => iso(100), fingerprint => hex_pin(2));
seen('dave', last_seen => iso(-2), last_ip => '10.3.0.1',
     not_after => iso(5), fingerprint => hex_pin(99));

my ($rc, $out, $err) = $t->tool('report', '--json');
is($rc, 0, 'report --json') or diag($err);

my $rep = eval { decode_json($out) };
ok($rep, 'report --json is JSON') or diag($out);

my %org = map { $_->{org} => $_ } @{ $rep->{organisations} };

is_deeply([sort keys %org], [qw(bank empty small)], 'the organisations');
is($org{bank}{user_count}, 3, 'bank has 3 users');
is($org{bank}{contracted_users}, 2, 'bank\'s contract covers 2');
ok($org{bank}{over_contract}, 'bank is over its contract');
is($org{small}{contracted_users}, 5, 'a contract covers 5 by default');
ok(!$org{small}{over_contract}, 'small is not over');
is($org{empty}{user_count}, 0, 'empty has no users');
is($org{bank}{valid_to}, '2027-12-31', 'the contract\'s dates');
is_deeply([sort @{ $org{bank}{scopes} }], ['person.address', 'person.basic'],
          'the contract\'s scopes');
is($org{small}{env}, 'prod test', 'the contract\'s environments');

my %bank = map { $_->{user} => $_ } @{ $org{bank}{users} };
is_deeply([sort keys %bank], [qw(alice bob carl)], 'bank\'s users');
is($bank{alice}{unit}, 'u-alice', 'a user\'s unit');
is($bank{alice}{addresses}, 2, 'alice: 2 addresses');
is($bank{bob}{networks}, 1, 'bob: a network');
is($bank{alice}{pins}, 1, 'alice: 1 pin');
is($bank{alice}{last_ip}, '10.0.0.1', 'alice: the last address seen');
like($bank{alice}{last_seen}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
     'alice: when last seen');
is($bank{carl}{last_seen}, undef, 'carl: never seen');

is_deeply([map { $_->{user} } @{ $rep->{unaffiliated_users} }], ['eve'],
          'a user of no organisation');

is_deeply($rep->{over_contract},
          [{ org => 'bank', user_count => 3, contracted_users => 2 }],
          'organisations over their contract');

is_deeply([map { "$_->{user}:$_->{entries}:$_->{networks}" }
           @{ $rep->{multiple_addresses} }],
          ['alice:2:0', 'bob:1:1'],
          'users with more than one address: two entries, or a network');

is_deeply([map { $_->{user} } @{ $rep->{certificates_expiring} }], ['alice'],
          'a certificate that expires within 30 days, not one rolled over');
ok($rep->{certificates_expiring}[0]{days} >= 9
   && $rep->{certificates_expiring}[0]{days} <= 10, 'in 10 days');
is($rep->{certificates_expiring}[0]{fingerprint}, hex_pin(1),
   'with its fingerprint');

is_deeply([sort map { $_->{user} } @{ $rep->{idle_users} }],
          [qw(bob carl eve)], 'users not seen for 90 days, or never');

# the days asked for

($rc, $out) = $t->tool('report', '--json', '--days', '5', '--idle-days',
                       '200');
$rep = decode_json($out);

is_deeply($rep->{certificates_expiring}, [], '--days 5: none expires');
is_deeply([sort map { $_->{user} } @{ $rep->{idle_users} }], [qw(carl eve)],
          '--idle-days 200: only those never seen');

# as tables

($rc, $out) = $t->tool('report');
is($rc, 0, 'report');
like($out, qr/^ORG\s+NAME\s+CONTRACT\s+STATUS\s+FROM\s+TO\s+ENV\s+USERS\s+SCOPES$/m,
     'tables: the organisations\' heading');
like($out, qr/^bank\s+Demo Bank\s+C-1\s+-\s+2026-01-01\s+2027-12-31\s+prod\s+3\/2 OVER\s+/m,
     'tables: an organisation over its contract');
like($out, qr/^Users of bank\n\nUSER\s+UNIT\s+STATUS\s+ADDRESSES\s+PINS\s+LAST SEEN\s+CERTIFICATE UNTIL\nalice\s+u-alice\s+active\s+2\s+1\s+\S+ 10\.0\.0\.1\s+\S+\n/m,
     'tables: an organisation\'s users');
like($out, qr/^  bank: 3 users, the contract covers 2$/m,
     'tables: over the contract');
like($out, qr/^  alice \(bank\): \S+, in (9|10) days, fingerprint /m,
     'tables: an expiring certificate');
like($out, qr/^  carl \(bank\): never seen$/m, 'tables: never seen');
like($out, qr/^5 users, 3 organisations, read in \d+\.\d{3} s$/m,
     'tables: the count and the time');

done_testing;
