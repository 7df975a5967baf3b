#!/usr/bin/perl

# Subrequests skip nginx's access phase; the module decides them in the
# preaccess phase instead, with the main request's connection, so that
# a guarded place is guarded whatever reaches it: auth_request to a
# guarded location decides with the client's certificate, an SSI include
# or a mirror of a guarded location is decided and audited, and a
# subrequest into a place with the main request's settings takes its
# decision as it is.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use IrTest;

my $t = IrTest->new;

$t->start_redis;
$t->client_cert($_) for qw(alice);

my $d = $t->dir;
mkdir "$d/html";
mkdir "$d/html/ssi";
mkdir "$d/html/data";

open my $f, '>', "$d/html/ssi/page.html" or die;
print $f "before <!--# include virtual=\"/data/secret.txt\" --> after\n";
close $f;

open $f, '>', "$d/html/data/secret.txt" or die;
print $f "SECRET";
close $f;

$t->write_config(<<"CONF");
    ir_access_redis %%REDIS%%;
    ir_access_audit stream=ir:audit;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        root $d/html;

        # an API whose decision is made by a subrequest
        location /api/ {
            auth_request /check;
            auth_request_set \$ir_user \$ir_access_user;
            auth_request_set \$ir_reason \$ir_access_reason;
            add_header X-IR-User \$ir_user always;
            add_header X-IR-Reason \$ir_reason always;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location = /check {
            internal;
            ir_access on;
            ir_access_scope person.basic;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        # an unguarded page that includes a guarded one
        location /ssi/ {
            ssi on;
        }

        location /data/ {
            ir_access on;
        }

        # a guarded place mirrored from an unguarded one
        location /mirrored/ {
            mirror /data/secret.txt;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        # guarded, and including a place with the same settings
        location /guarded-ssi/ {
            ir_access on;
            ssi on;
            alias $d/html/ssi/;
        }
    }
CONF

$t->start_nginx;

my $r = $t->redis;

$t->org('bank', name => 'Bank', scopes => ['person.basic']);
$t->user('alice', ips => ['10.0.0.0/8']);

my %alice = (cert => 'alice', ip => '10.0.0.1');
my $res;

# auth_request: the client's certificate decides the subrequest

$res = $t->get('/api/x', %alice);
$t->allowed($res,
            'auth_request to a guarded location: allowed with a certificate');
is($res->{headers}{'x-ir-user'}, 'alice',
   'auth_request_set takes the user from the subrequest\'s decision');
$res = $t->get('/api/x');
is($res->{status}, 403, 'auth_request: refused without one');
is($res->{headers}{'x-ir-reason'}, 'cert_required',
   'auth_request_set takes the reason from the subrequest\'s decision');
is($t->get('/api/x', %alice, ip => '192.0.2.1')->{status}, 403,
   'auth_request: refused from outside the allowlist');

$r->del('ir:org:bank:scopes');
is($t->get('/api/x', %alice)->{status}, 403,
   'auth_request: refused without the scope the subrequest wants');
$r->sadd('ir:org:bank:scopes', 'person.basic');

# SSI: the include is decided like a request of its own

$t->audit_reset;
$res = $t->get('/ssi/page.html');
is($res->{status}, 200, 'an unguarded page with an SSI include');
unlike($res->{body}, qr/SECRET/,
       'the guarded include is not served without a certificate');

my @e = $t->wait_audit(1);
is(scalar @e, 1, 'the include is in the trail');
is($e[0]{uri}, '/data/secret.txt', 'with its own URI');
is($e[0]{reason}, 'cert_required', 'and its reason');

like($t->get('/ssi/page.html', %alice)->{body}, qr/before SECRET after/,
     'with a certificate the include is served');

# mirror: the mirrored request is decided too

$t->audit_reset;
$t->allowed($t->get('/mirrored/x'), 'the mirroring request is served');
@e = $t->wait_audit(1);
is(scalar @e, 1, 'the mirror is decided');
is($e[0]{uri} // '', '/data/secret.txt', 'for the mirrored place');
is($e[0]{decision} // '', 'deny', 'and denied without a certificate');

# a subrequest into a place with the same settings takes the decision

$t->audit_reset;
my $mark = $t->log_mark;
like($t->get('/guarded-ssi/page.html', %alice)->{body},
     qr/before SECRET after/, 'a guarded page including a guarded one');
@e = $t->wait_audit(1);
sleep 0.2;
@e = $t->audit_entries;
is(scalar @e, 1, 'one decision for the request and its include');

$t->stop_nginx;
$t->check_log;

done_testing;
