#!/usr/bin/perl

# The module follows nginx's rules for access modules: a denial goes back
# to the phase engine, so that "satisfy any", "error_page" and
# "auth_delay" work as with auth_basic and allow/deny; the JSON body is
# the answer only where no error_page is set; a dry run declines; and a
# request is decided once, across its internal redirects (index,
# try_files, error_page, rewrite ... last, X-Accel-Redirect), and again
# only where it lands in a place with other settings.

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
mkdir "$d/html/dir";
for my $f ('index.html', 'dir/index.html', 'fallback.html', 'file.txt',
           'denied.html')
{
    open my $fh, '>', "$d/html/$f" or die;
    print $fh "page $f\n";
    close $fh;
}

my $accel = IrTest::free_port();

$t->write_config(<<"CONF");
    ir_access_redis %%REDIS%%;
    ir_access_audit stream=ir:audit;

    server {
        listen 127.0.0.1:$accel;

        location / {
            add_header X-Accel-Redirect /protected/file.txt;
            return 200 "";
        }
    }

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        root $d/html;
        auth_delay 300ms;

        location / {
            ir_access on;
        }

        location /any-allow/ {
            satisfy any;
            allow all;
            ir_access on;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /any-deny/ {
            satisfy any;
            deny all;
            ir_access on;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /dry-any-deny/ {
            satisfy any;
            deny all;
            ir_access on;
            ir_access_mode dry_run;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /all-deny/ {
            deny all;
            ir_access on;
            ir_access_mode dry_run;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /custom/ {
            ir_access on;
            error_page 403 /denied.html;
            error_page 401 = \@challenge;
            ir_access_password on;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location = /denied.html {
            ir_access off;
        }

        location \@challenge {
            ir_access off;
            return 401 "custom challenge";
        }

        location /pw/ {
            ir_access on;
            ir_access_password on;
            ir_access_lockout off;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /try/ {
            ir_access on;
            try_files \$uri /fallback.html;
        }

        location /rewrite/ {
            ir_access on;
            rewrite ^/rewrite/(.*)\$ /dir/\$1 last;
        }

        location /accel/ {
            ir_access on;
            proxy_pass http://127.0.0.1:$accel;
        }

        location /protected/ {
            internal;
            ir_access on;
            alias $d/html/;
        }

        location /scoped-try/ {
            ir_access on;
            try_files /nothing /scoped/x;
        }

        location /scoped/ {
            ir_access on;
            ir_access_scope person.basic;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }
    }
CONF

$t->start_nginx;

my $r = $t->redis;

$t->org('bank', name => 'Bank');
$t->user('alice', ips => ['10.0.0.0/8'], password => '{PLAIN}secret');

my %alice = (cert => 'alice', ip => '10.0.0.1');

sub decisions {
    my ($mark) = @_;
    my @lines = $t->log_since($mark) =~ /ir_access: (?:denied|dry run)/g;
    return scalar @lines;
}

# satisfy any: another module's allow lets the request in; "deny all"
# logs its own refusals

$t->expect_error(qr/\*\d+ access forbidden by rule, client: [\d.]+, server: , request: "GET \/(any|dry-any|all)-deny\/x HTTP\/1\.1"/);

my $mark = $t->log_mark;
$t->allowed($t->get('/any-allow/x'),
            'satisfy any: "allow all" admits a client without a certificate');
is(decisions($mark), 1, 'satisfy any: the module still decided, once');

$t->allowed($t->get('/any-deny/x', %alice),
            'satisfy any: the module admits where "deny all" would not');
$t->denied($t->get('/any-deny/x'), 403, 'cert_required',
           'satisfy any: nobody admits: the module\'s denial is the answer');

# a dry run declines: it never admits what others deny

is($t->get('/dry-any-deny/x')->{status}, 403,
   'dry run under satisfy any and "deny all": still refused');
is($t->get('/dry-any-deny/x', %alice)->{status}, 403,
   'dry run that would allow, under "deny all": still refused');
is($t->get('/all-deny/x', %alice)->{status}, 403,
   'dry run under satisfy all and "deny all": refused');

# error_page: nginx's own, with the status kept

my $res = $t->get('/custom/x', %alice, ip => '192.0.2.1');
is($res->{status}, 403, 'error_page 403: the status');
is($res->{body}, "page denied.html\n", 'error_page 403: the custom page');

$res = $t->get('/custom/x', %alice);
is($res->{status}, 401, 'error_page 401 = @named: the status');
is($res->{body}, 'custom challenge', 'error_page 401 = @named: its body');

# and where no error_page is set, the JSON, with the challenge

$res = $t->get('/pw/x', %alice);
$t->denied($res, 401, 'password_required', 'no error_page: the JSON body');
is($res->{headers}{'content-type'}, 'application/json',
   'no error_page: application/json');
is($res->{headers}{'www-authenticate'}, 'Basic realm="ir-access"',
   'the challenge');

# auth_delay applies to the module's 401, as to auth_basic's

$mark = $t->log_mark;
$t->get('/pw/x', %alice, user => 'alice:wrong');
like($t->log_since($mark), qr/delaying unauthorized request/,
     'auth_delay delays a wrong password');

$mark = $t->log_mark;
$t->allowed($t->get('/pw/x', %alice, user => 'alice:secret'),
            'the right password');
unlike($t->log_since($mark), qr/delaying unauthorized request/,
       'and is not delayed');

# one decision per request, across internal redirects

sub one_decision {
    my ($path, $want, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    $t->audit_reset;

    my $res = $t->get($path, %alice);
    is($res->{status}, 200, "$name: answered") or diag($res->{body});
    like($res->{body}, $want, "$name: the page");

    my @e = $t->wait_audit(1);
    sleep 0.2;
    @e = $t->audit_entries;
    is(scalar @e, 1, "$name: one decision in the trail");
}

one_decision('/', qr/page index\.html/, 'index');
one_decision('/dir/', qr/page dir\/index\.html/, 'index in a folder');
one_decision('/try/nothing', qr/page fallback\.html/, 'try_files');
one_decision('/rewrite/', qr/page dir\/index\.html/, 'rewrite ... last');
one_decision('/accel/x', qr/page file\.txt/, 'X-Accel-Redirect');

# a denial redirected to a page with the same settings stays denied

$mark = $t->log_mark;
$res = $t->get('/', %alice, ip => '192.0.2.1');
$t->denied($res, 403, 'ip_not_allowed', 'a denial');
is(decisions($mark), 1, 'is logged once');

# a redirect after the access phase into a place with other settings
# decides again (a rewrite happens before it, and so decides once)

$t->audit_reset;
$mark = $t->log_mark;
$t->denied($t->get('/scoped-try/x', %alice), 403, 'scope_denied',
           'a redirect into a place that wants a scope decides again');
my @e = $t->wait_audit(2);
is(scalar @e, 2, 'two decisions in the trail');
is(join(' ', map { $_->{decision} } @e), 'allow deny',
   'the first allowed, the second denied');
is(decisions($mark), 1, 'and the denial logged once');

$r->sadd('ir:org:bank:scopes', 'person.basic');
$t->allowed($t->get('/scoped-try/x', %alice),
            'the scope granted: allowed');

$t->stop_nginx;
$t->check_log;

done_testing;
