#!/usr/bin/perl

# Step 4 of the decision, the user's address allowlist: IPv4 and IPv6
# addresses and CIDR prefixes, an IPv4-mapped client against IPv4 entries
# (prefixes and single addresses), an empty allowlist that allows nothing,
# invalid entries that are ignored and logged while the valid ones still
# work (and take nothing of the entry before them), prefixes with host bits set taken as the typos they are, never
# as the network they would widen to, and the allow-all entries only
# written exactly so ("0.0.0.0/00" and "::0/0" are none), logged at warn.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use IrTest;

my $t = IrTest->new;

$t->start_redis;
$t->client_cert($_) for qw(alice eve);

$t->write_config("ir_access_redis %%REDIS%%;\n" . IrTest->guarded_server);
$t->start_nginx;

$t->org('bank', name => 'Test Bank');

$t->user('alice', ips => ['10.1.0.0/16', '2001:db8::/32', '192.0.2.7']);
$t->user('eve', ips => []);

# addresses and prefixes

$t->allowed($t->get('/', cert => 'alice', ip => '10.1.2.3'),
            'inside an IPv4 prefix');
$t->denied($t->get('/', cert => 'alice', ip => '10.2.0.1'),
           403, 'ip_not_allowed', 'outside the CIDR');
$t->allowed($t->get('/', cert => 'alice', ip => '192.0.2.7'),
            'a single address');
$t->denied($t->get('/', cert => 'alice', ip => '192.0.2.8'),
           403, 'ip_not_allowed', 'next to a single address');
$t->allowed($t->get('/', cert => 'alice', ip => '2001:db8:1::5'),
            'IPv6 in the prefix');
$t->denied($t->get('/', cert => 'alice', ip => '2001:db9::5'),
           403, 'ip_not_allowed', 'IPv6 outside the prefix');
$t->allowed($t->get('/', cert => 'alice', ip => '::ffff:10.1.200.1'),
            'IPv4-mapped IPv6 address matches an IPv4 entry');
$t->denied($t->get('/', cert => 'alice', ip => '::ffff:10.2.0.1'),
           403, 'ip_not_allowed', 'IPv4-mapped address outside');

my $mark = $t->log_mark;
$t->denied($t->get('/', cert => 'eve', ip => '10.1.2.3'),
           403, 'ip_not_allowed', 'no allowlist');
like($t->log_since($mark),
     qr/denied user "eve" from 10\.1\.2\.3: ip_not_allowed, user's allowlist is empty/,
     'the denial says the allowlist is empty');

# invalid entries are ignored and logged at error, the valid ones still
# work, and a denial names the entries that were ignored

$t->expect_error(qr/ir_access: Redis key "ir:user:eve:ips" has entries that are not an IP address or a CIDR prefix without host bits, ignored: /);
$t->redis->sadd('ir:user:eve:ips', 'not-an-ip', '10.9.9.300', '10.9.0.0/33',
                ' 10.9.9.9', '10.9.9.9');
$mark = $t->log_mark;
$t->allowed($t->get('/', cert => 'eve', ip => '10.9.9.9'),
            'valid entry among invalid ones');
my $log = $t->log_since($mark);
like($log, qr/\[error\].*Redis key "ir:user:eve:ips" has entries that are not an IP address or a CIDR prefix without host bits, ignored: .*not-an-ip/,
     'invalid entries logged at error');
like($log, qr/ignored: .*10\.9\.0\.0\/33/, 'invalid prefix logged');
$mark = $t->log_mark;
$t->denied($t->get('/', cert => 'eve', ip => '10.9.9.10'),
           403, 'ip_not_allowed', 'invalid entries allow nothing');
like($t->log_since($mark),
     qr/ip_not_allowed, address is not on the user's allowlist, whose invalid entries are ignored: ".*10\.9\.0\.0\/33/,
     'the denial names the ignored entries, not an "empty" allowlist');

# an entry that is no prefix after one that is: it takes nothing of the
# entry before it (ngx_ptocidr() leaves the address read and the mask
# untouched when the prefix length is out of range)

$t->user('eve', ips => ['10.20.0.0/16', '172.16.0.0/1666']);
$mark = $t->log_mark;
$t->denied($t->get('/', cert => 'eve', ip => '172.16.5.5'),
           403, 'ip_not_allowed', '"172.16.0.0/1666" after a /16 is no /16');
$t->allowed($t->get('/', cert => 'eve', ip => '10.20.5.5'),
            'and the /16 before it still works');
like($t->log_since($mark), qr/ignored: "172\.16\.0\.0\/1666"/,
     'the entry is logged as ignored');

# host bits set past the prefix: a typo (for /32), never the network it
# would widen to; the denial says the allowlist had only invalid entries

$t->user('eve', ips => ['127.0.0.15/24', '127.0.0.15/0']);
$mark = $t->log_mark;
$t->denied($t->get('/', cert => 'eve', ip => '127.0.0.99'),
           403, 'ip_not_allowed', 'a prefix with host bits set allows nothing');
$t->denied($t->get('/', cert => 'eve', ip => '198.51.100.1'),
           403, 'ip_not_allowed', '"127.0.0.15/0" does not allow everyone');
like($t->log_since($mark),
     qr/user's allowlist has only invalid entries, ignored: "127\.0\.0\.15\/(24|0), 127\.0\.0\.15\/(24|0)"/,
     'the denial says the allowlist had only invalid entries');

# "0.0.0.0/0" and "::/0" allow every address, written exactly so, and
# that is logged at warn; "0.0.0.0/00" is not that
$t->user('eve', ips => ['0.0.0.0/00', '::0/0']);
$t->denied($t->get('/', cert => 'eve', ip => '198.51.100.1'),
           403, 'ip_not_allowed', '"0.0.0.0/00" is no allow-all');
$t->denied($t->get('/', cert => 'eve', ip => '2001:db8::99'),
           403, 'ip_not_allowed', '"::0/0" is no allow-all either');
$t->user('eve', ips => ['0.0.0.0/0']);
$mark = $t->log_mark;
$t->allowed($t->get('/', cert => 'eve', ip => '198.51.100.1'),
            '"0.0.0.0/0" allows any IPv4 address');
like($t->log_since($mark),
     qr/\[warn\].*Redis key "ir:user:eve:ips" allows every address/,
     'an allow-all entry is logged at warn');
$t->user('eve', ips => ['::/0']);
$t->allowed($t->get('/', cert => 'eve', ip => '2001:db8::99'),
            '"::/0" allows any IPv6 address');

# an IPv4-mapped client against a single-address entry
$t->user('eve', ips => ['10.20.30.40']);
$t->allowed($t->get('/', cert => 'eve', ip => '::ffff:10.20.30.40'),
            'an IPv4-mapped client matches a single IPv4 address');
$t->denied($t->get('/', cert => 'eve', ip => '::ffff:10.20.30.41'),
           403, 'ip_not_allowed', 'and not its neighbour');

$t->stop_nginx;
$t->check_log;

done_testing;
