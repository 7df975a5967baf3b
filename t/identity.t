#!/usr/bin/perl

# Steps 1 to 3 of the decision: the certificate identity (a verified
# certificate, one CN in the names' alphabet, which has no ':', or a
# configured identity validated the same way), the user record and its
# status (exactly "active" or none, not "active " nor "actively"), and
# the certificate pin (any case, with or without colons, several for a
# rollover, exactly 64 hex digits); the variables of an allowed request,
# client headers overwritten, and one log line per denial.  The address
# allowlist, step 4, is allowlist.t's.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use IrTest;

my $t = IrTest->new;

$t->start_redis;

$t->client_cert('alice');
$t->client_cert('bob');
$t->client_cert('carol');
$t->client_cert('dave');
$t->client_cert('nobody-here');
$t->client_cert('alice-new', subj => '/CN=alice/O=rollover');
$t->client_cert('spaced', subj => '/CN=alice smith/O=x');
$t->client_cert('twocn', subj => '/CN=alice/CN=bob');
$t->client_cert('nocn', subj => '/O=no-common-name');
$t->client_cert('utf8cn', subj => "/CN=al\x{c4}\x{ab}ce");
$t->client_cert('expired', subj => '/CN=alice', days => -1);
$t->client_cert('stranger', subj => '/CN=alice', ca => 'other');
$t->client_cert('svc-colon', subj => '/CN=svc:a/O=x');

my $noca = IrTest::free_port();

$t->write_config(<<"CONF");
    ir_access_redis %%REDIS%%;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        location / {
            ir_access on;
            proxy_set_header X-IR-User \$ir_access_user;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
            add_header X-Decision \$ir_access_decision;
            add_header X-Reason \$ir_access_reason;
            add_header X-Cert \$ir_access_cert_sha256;
        }

        location /open {
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /no-pin {
            ir_access on;
            ir_access_cert_pin off;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /by-header {
            # a name from elsewhere than the CN is still validated
            ir_access on;
            ir_access_identity \$http_x_claimed_user;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }
    }

    server {
        # nginx lets unverified certificates through here; the module not
        listen 127.0.0.1:$noca ssl;
%%TLS%%
        ssl_verify_client optional_no_ca;

        location / {
            ir_access on;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }
    }
CONF

# the second server repeats ssl_verify_client: keep its last value only
$t->edit_config(sub {
    s/ssl_verify_client\s+optional;(\s+set_real_ip_from[^\n]*\n[^\n]*\n\s+ssl_verify_client optional_no_ca;)/$1/;
});

$t->start_nginx;

my $fp = $t->fingerprint('alice');
my $sha = $t->sha256('alice');

# steps 5 to 9 pass: an organisation with no restrictions
$t->org('bank', name => 'Test Bank');

$t->user('alice', ips => ['10.1.0.0/16', '2001:db8::/32', '192.0.2.7']);
$t->user('bob', ips => ['10.1.2.3'], status => 'locked');
$t->user('carol', ips => ['10.1.2.3'], status => 'disabled');
$t->user('dave', ips => ['10.1.2.3'], cert => 'alice');

# allowed, and the variables

my $r = $t->get('/', cert => 'alice', ip => '10.1.2.3');
$t->allowed($r, 'alice from her network');
like($r->{body}, qr/"user":"alice"/, 'backend sees the identity');
is($r->{headers}{'x-decision'}, 'allow', 'decision variable');
ok(!exists $r->{headers}{'x-reason'}, 'no reason when allowed');
is($r->{headers}{'x-cert'}, $sha, 'certificate variable');

# step 1

$r = $t->get('/');
$t->denied($r, 403, 'cert_required', 'no certificate');
is($r->{headers}{'content-type'}, 'application/json', 'denial is JSON');

$t->denied($t->get('/', cert => 'spaced', ip => '10.1.2.3'),
           403, 'bad_identity', 'CN with a space');
$t->denied($t->get('/', cert => 'twocn', ip => '10.1.2.3'),
           403, 'bad_identity', 'two CNs');
$t->denied($t->get('/', cert => 'nocn', ip => '10.1.2.3'),
           403, 'bad_identity', 'no CN');
$t->denied($t->get('/', cert => 'utf8cn', ip => '10.1.2.3'),
           403, 'bad_identity', 'CN with a letter outside ASCII');

# a ':' in a name would make "ir:user:svc:a" both user svc:a's record
# and a key of user svc's, whose edits drop the wrong cached entry: no
# name has one, even where a record is there to be found

$t->user('svc:a', ips => ['10.1.2.3'], cert => 'svc-colon');
$t->denied($t->get('/', cert => 'svc-colon', ip => '10.1.2.3'),
           403, 'bad_identity', 'CN with a colon');

$r = $t->get('/', cert => 'stranger', ip => '10.1.2.3');
is($r->{status}, 400, 'a certificate of another CA is refused by nginx');

$t->denied($t->get('/', cert => 'stranger', ip => '10.1.2.3', port => $noca),
           403, 'cert_required', 'unverified certificate, optional_no_ca');
my $mark = $t->log_mark;
$r = $t->get('/', cert => 'expired', ip => '10.1.2.3', port => $noca);
is($r->{status}, 400, 'an expired certificate is refused by nginx');
like($t->log_since($mark), qr/verify error: \(10:certificate has expired\)/,
     'as expired');

$r = $t->get('/', cert => 'alice', ip => '10.1.2.3',
             headers => ['X-IR-User: admin']);
like($r->{body}, qr/"user":"alice"/,
     'a client\'s X-IR-User header is overwritten');

# ir_access_identity: still validated, still needs the certificate

$t->allowed($t->get('/by-header', cert => 'alice', ip => '10.1.2.3',
                    headers => ['X-Claimed-User: alice']),
            'identity from a configured value');
$t->denied($t->get('/by-header', cert => 'alice', ip => '10.1.2.3',
                   headers => ['X-Claimed-User: ../etc']),
           403, 'bad_identity', 'configured identity outside the alphabet');
$t->denied($t->get('/by-header', cert => 'alice', ip => '10.1.2.3',
                   headers => ['X-Claimed-User: svc:a']),
           403, 'bad_identity', 'configured identity with a colon');
$t->denied($t->get('/by-header', cert => 'alice', ip => '10.1.2.3',
                   headers => ['X-Claimed-User: ' . ('a' x 65)]),
           403, 'bad_identity', 'configured identity over 64 characters');
$t->user('a' x 64, ips => ['10.1.2.3'], cert => 'alice');
$t->allowed($t->get('/by-header', cert => 'alice', ip => '10.1.2.3',
                    headers => ['X-Claimed-User: ' . ('a' x 64)]),
            'identity of 64 characters');
$t->denied($t->get('/by-header', ip => '10.1.2.3',
                   headers => ['X-Claimed-User: alice']),
           403, 'cert_required', 'configured identity without certificate');

# step 2

$t->denied($t->get('/', cert => 'nobody-here', ip => '10.1.2.3'),
           403, 'unknown_user', 'no user record');
$t->denied($t->get('/', cert => 'bob', ip => '10.1.2.3'),
           403, 'account_locked', 'locked');
$t->denied($t->get('/', cert => 'carol', ip => '10.1.2.3'),
           403, 'user_disabled', 'disabled');

$t->redis->hset('ir:user:carol', 'status', 'Active ');
$t->denied($t->get('/', cert => 'carol', ip => '10.1.2.3'),
           403, 'user_disabled', 'a status with a typo');
$t->redis->hset('ir:user:carol', 'status', 'active ');
$t->denied($t->get('/', cert => 'carol', ip => '10.1.2.3'),
           403, 'user_disabled', 'a status of "active" and a space');
$t->redis->hset('ir:user:carol', 'status', 'actively');
$t->denied($t->get('/', cert => 'carol', ip => '10.1.2.3'),
           403, 'user_disabled', 'a status that begins with "active"');
$t->redis->hset('ir:user:carol', 'status', 'active');
$t->allowed($t->get('/', cert => 'carol', ip => '10.1.2.3'),
            'status active');
$t->redis->hdel('ir:user:carol', 'status');
$t->allowed($t->get('/', cert => 'carol', ip => '10.1.2.3'),
            'no status field');

# step 3: pins

$t->denied($t->get('/', cert => 'dave', ip => '10.1.2.3'),
           403, 'cert_mismatch', 'another user\'s certificate');
$t->allowed($t->get('/no-pin', cert => 'dave', ip => '10.1.2.3'),
            'pinning off');

$t->denied($t->get('/', cert => 'alice-new', ip => '10.1.2.3'),
           403, 'cert_mismatch', 'new certificate before the rollover');

my $new = $t->sha256('alice-new');

$t->redis->hset('ir:user:alice', 'cert', "$fp, $new");
$t->allowed($t->get('/', cert => 'alice-new', ip => '10.1.2.3'),
            'rollover: new certificate');
$t->allowed($t->get('/', cert => 'alice', ip => '10.1.2.3'),
            'rollover: old certificate');

$t->redis->hset('ir:user:alice', 'cert', lc($fp) . " " . uc($new));
$t->allowed($t->get('/', cert => 'alice', ip => '10.1.2.3'),
            'pins in lower case with colons');
$t->allowed($t->get('/', cert => 'alice-new', ip => '10.1.2.3'),
            'pins in upper case without colons');

$t->redis->hset('ir:user:alice', 'cert', substr($new, 0, 63));
$t->denied($t->get('/', cert => 'alice-new', ip => '10.1.2.3'),
           403, 'cert_mismatch', 'a truncated pin');
$t->redis->hset('ir:user:alice', 'cert', $new . '0');
$t->denied($t->get('/', cert => 'alice-new', ip => '10.1.2.3'),
           403, 'cert_mismatch', 'an over-long pin');

$t->redis->hdel('ir:user:alice', 'cert');
$t->denied($t->get('/', cert => 'alice', ip => '10.1.2.3'),
           403, 'cert_mismatch', 'no cert field');
$t->redis->hset('ir:user:alice', 'cert', $fp);

# every denial is logged once with the user, the address and the reason
$mark = $t->log_mark;
$t->get('/', cert => 'alice', ip => '10.2.0.1');
my $log = $t->log_since($mark);
my @lines = grep { /ir_access: denied/ } split /\n/, $log;
is(scalar @lines, 1, 'a denial is logged once');
like($lines[0] // '',
     qr/denied user "alice" from 10\.2\.0\.1: ip_not_allowed/,
     'the log line names the user, the address and the reason');

# a location without ir_access is untouched
$t->allowed($t->get('/open'), 'unguarded location');

$t->stop_nginx;
$t->check_log;

done_testing;
