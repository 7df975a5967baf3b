#!/usr/bin/perl

# Bad data in Redis, as a typo in redis-cli leaves it: user, allowlist
# and organisation keys of the wrong type, missing fields, huge values,
# over-large hashes and sets, garbage allowlist members.  Each is a clear
# denial with its reason and a log line naming the key, never a crash or
# an allow.  And a script flushed by an admin (SCRIPT FLUSH) is sent
# again; Redis is reached over its unix socket here.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use IrTest;

my $t = IrTest->new;

$t->start_redis;

$t->client_cert($_) for qw(alice bob carol dave erin frank);

# the unix socket form of the address
$t->write_config("ir_access_redis unix:%%REDIS_SOCK%%;\n"
                 . IrTest->guarded_server);

$t->start_nginx;

my $r = $t->redis;

$t->org('bank', name => 'Test Bank');
$t->user($_, ips => ['10.0.0.1']) for qw(alice bob carol dave erin frank);

$t->allowed($t->get('/', cert => 'alice', ip => '10.0.0.1'),
            'a good record, over a unix socket');

# the user key of the wrong type

$t->expect_error(qr/ir_access: Redis key "ir:user:bob" is a (string|list), not a hash, and is ignored; /);
$r->del('ir:user:bob');
$r->set('ir:user:bob', 'org=bank');

my $mark = $t->log_mark;
$t->denied($t->get('/', cert => 'bob', ip => '10.0.0.1'),
           403, 'unknown_user', 'user key is a string');
like($t->log_since($mark),
     qr/Redis key "ir:user:bob" is a string, not a hash/,
     'the wrong type is logged');

$r->del('ir:user:bob');
$r->rpush('ir:user:bob', 'org', 'bank');
$t->denied($t->get('/', cert => 'bob', ip => '10.0.0.1'),
           403, 'unknown_user', 'user key is a list');

# the allowlist of the wrong type

$t->expect_error(qr/ir_access: Redis key "ir:user:carol:ips" is a (string|hash), not a set, and is ignored; /);
$r->del('ir:user:carol:ips');
$r->set('ir:user:carol:ips', '10.0.0.1');

$mark = $t->log_mark;
$t->denied($t->get('/', cert => 'carol', ip => '10.0.0.1'),
           403, 'ip_not_allowed', 'allowlist is a string');
like($t->log_since($mark),
     qr/Redis key "ir:user:carol:ips" is a string, not a set/,
     'the wrong type of the allowlist is logged');

$r->del('ir:user:carol:ips');
$r->hset('ir:user:carol:ips', '10.0.0.1', '1');
$t->denied($t->get('/', cert => 'carol', ip => '10.0.0.1'),
           403, 'ip_not_allowed', 'allowlist is a hash');

# the organisation of the wrong type

$t->expect_error(qr/ir_access: Redis key "ir:org:wrongtype" is a string, not a hash, and is ignored; /);
$r->set('ir:org:wrongtype', 'x');
$r->hset('ir:user:dave', 'org', 'wrongtype');
$mark = $t->log_mark;
$t->denied($t->get('/', cert => 'dave', ip => '10.0.0.1'),
           403, 'org_unknown', 'organisation key is a string');
like($t->log_since($mark), qr/Redis key "ir:org:wrongtype" is a string/,
     'the wrong type of the organisation is logged');

# missing fields

$r->hdel('ir:user:dave', 'org');
$t->denied($t->get('/', cert => 'dave', ip => '10.0.0.1'),
           403, 'org_unknown', 'user without an org field');

$r->hdel('ir:user:dave', 'cert');
$t->denied($t->get('/', cert => 'dave', ip => '10.0.0.1'),
           403, 'unknown_user', 'user with only an ips set');

# huge values

$t->expect_error(qr/ir_access: the record "ir:user:erin" is unusable: (field "cert" is 100000 bytes long, over the limit of 4096|it has more than 64 fields); /,
                 qr/ir_access: Redis key "ir:user:erin(:ips)?" is too large to be a record and is refused/);
$r->hset('ir:user:erin', 'cert', 'a' x 100_000);
$mark = $t->log_mark;
$t->denied($t->get('/', cert => 'erin', ip => '10.0.0.1'),
           403, 'bad_record', 'a 100 kB field');
like($t->log_since($mark),
     qr/the record "ir:user:erin" is unusable: field "cert" is 100000 bytes long/,
     'the over-long field is logged');

$t->user('erin', ips => ['10.0.0.1']);
$r->hset('ir:user:erin', "junk$_", $_) for 1 .. 100;
$mark = $t->log_mark;
$t->denied($t->get('/', cert => 'erin', ip => '10.0.0.1'),
           403, 'bad_record', 'a hash of a hundred fields');
like($t->log_since($mark), qr/Redis key "ir:user:erin" is too large/,
     'the over-large hash is logged');

$t->user('erin', ips => ['10.0.0.1']);
$r->sadd('ir:user:erin:ips', map { "10.1." . int($_ / 256) . "." . ($_ % 256) }
                             0 .. 4999);
$mark = $t->log_mark;
$t->denied($t->get('/', cert => 'erin', ip => '10.0.0.1'),
           403, 'ip_not_allowed', 'an allowlist of 5000 entries');
like($t->log_since($mark), qr/Redis key "ir:user:erin:ips" is too large/,
     'the over-large allowlist is logged');

# garbage in the allowlist: binary, empty-looking, huge members

$t->expect_error(qr/ir_access: Redis key "ir:user:frank:ips" has entries that are not an IP address or a CIDR prefix without host bits, ignored: /);
$t->user('frank', ips => []);
$r->sadd('ir:user:frank:ips', "\x00\x01\xff", "10.0.0.1\n", 'x' x 10_000,
         '::ffff:not', '10.0.0.1/-1', '-', '1.2.3.4/');
$t->denied($t->get('/', cert => 'frank', ip => '10.0.0.1'),
           403, 'ip_not_allowed', 'only garbage in the allowlist');
$r->sadd('ir:user:frank:ips', '10.0.0.1');
$t->allowed($t->get('/', cert => 'frank', ip => '10.0.0.1'),
            'garbage next to a good entry');

# a script flushed by an admin is sent again

$r->script_flush;
$t->allowed($t->get('/', cert => 'alice', ip => '10.0.0.1'),
            'after SCRIPT FLUSH');
$t->allowed($t->get('/', cert => 'alice', ip => '10.0.0.1'),
            'and after that');

$t->stop_nginx;
$t->check_log;

done_testing;
