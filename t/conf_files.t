#!/usr/bin/perl

# The configuration files the package ships for Debian's layout,
# conf/conf.d/ir-access.conf and conf/sites-available/ir-access, as an
# operator drops them in: with this test's addresses and paths in place
# of the examples', "nginx -t" passes, and with real requests through the
# PROXY protocol the client's address is the one the load balancer tells
# (never a header's, never a PROXY header from anyone else), the backend
# sees no password and no X-IR-* header a client wrote, and the metrics
# answer only the monitoring address.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP;
use Test::More;
use IrTest;

my $ROOT = "$FindBin::Bin/..";

my $t = IrTest->new;
my $d = $t->dir;

$t->start_redis(notify => 'KA');
$t->client_cert('alice');

my $echo = IrTest::free_port();
my $test_port = IrTest::free_port();
my $metrics_port = IrTest::free_port();

my $mmdb = $t->write_mmdb('country.mmdb', { '10.1.0.0/16' => 'LV',
                                            '10.9.0.0/16' => 'LV' });

$t->org('bank', name => 'Test Bank', contract => 'C-1', env => 'prod test',
        scopes => ['person.basic', 'person.address']);
$t->user('alice', ips => ['10.1.2.3'], unit => 'loans',
         password => '{PLAIN}alice-pw');

# The files with this test's values: each example value must be found,
# so that an edit of the files that this test does not follow fails here.

sub install_file {
    my ($from, $to, @edits) = @_;

    open my $in, '<', "$ROOT/$from" or die "$from: $!";
    local $_ = do { local $/; <$in> };
    close $in;

    while (my ($re, $with) = splice @edits, 0, 2) {
        s/$re/$with/g or die "$from has no $re any more: update $0\n";
    }

    mkdir "$d/" . (split m{/}, $to)[0];
    open my $out, '>', "$d/$to" or die "$to: $!";
    print $out $_;
    close $out;
}

install_file('conf/conf.d/ir-access.conf', 'conf.d/ir-access.conf',
    qr/ir_access_redis +127\.0\.0\.1:6379;/
        => 'ir_access_redis ' . $t->redis_addr . ';',
    qr{/usr/share/ir-access/geo-whois-asn-country\.mmdb} => $mmdb);

install_file('conf/sites-available/ir-access', 'sites-enabled/ir-access',
    qr/server 10\.0\.0\.20:8080;/ => "server 127.0.0.1:$echo;",
    qr/listen 443 ssl proxy_protocol;/
        => "listen 127.0.0.1:" . $t->port . " ssl proxy_protocol;",
    qr/listen 8443 ssl proxy_protocol;/
        => "listen 127.0.0.1:$test_port ssl proxy_protocol;",
    qr/listen 10\.0\.0\.5:9145;/ => "listen 127.0.0.1:$metrics_port;",
    qr/set_real_ip_from +10\.0\.0\.10;/ => 'set_real_ip_from 127.0.0.1;',
    qr/allow 10\.0\.0\.30;/ => 'allow 127.0.0.3;',
    qr{/etc/nginx/ir-access/} => "$d/",
    qr{/var/log/nginx/} => "$d/logs/");

# the register's stand-in tells what it was sent

my @echo = qw(authorization x_forwarded_for x_real_ip x_ir_user x_ir_org
              x_ir_unit x_ir_contract x_ir_scopes x_ir_country x_ir_cert);
my $json = join ',', map { qq("$_":"\$http_$_") } @echo;

$t->write_config(<<"EOF", workers => 2);
    include $d/conf.d/ir-access.conf;
    include $d/sites-enabled/ir-access;

    server {
        listen 127.0.0.1:$echo;

        location / {
            default_type application/json;
            return 200 '{$json}';
        }
    }
EOF

my ($ok, $out) = $t->test_config;
ok($ok, 'nginx -t passes with conf.d/ir-access.conf and sites-available/ir-access')
    or diag($out);

# The shipped ir_access_redis_timeout, 500ms, is an operator's choice
# that a test machine running other tests beside this one can exceed: a
# reconnection then is no fault of the files tried here.
$t->expect_error(qr/ir_access: Redis at "[^"]+" did not answer within 500ms, reconnecting/);

$t->start_nginx;

my @forged = ('X-IR-User: mallory', 'X-IR-Org: evil', 'X-IR-Unit: forged',
              'X-IR-Contract: forged', 'X-IR-Scopes: everything',
              'X-IR-Country: XX', 'X-IR-Cert: forged',
              'X-Forwarded-For: 10.6.6.6', 'X-Real-IP: 10.6.6.6');

for my $server (['production', $t->port], ['test', $test_port]) {
    my ($name, $port) = @$server;

    my $res = $t->get('/api/persons/1', proxy_from => '10.1.2.3',
                      port => $port, cert => 'alice', user => 'alice:alice-pw',
                      headers => \@forged);
    $t->allowed($res, "$name: alice from her address, through the load balancer");

    my $seen = eval { decode_json($res->{body}) } || {};

    is($seen->{authorization}, '', "$name: the backend gets no password");
    is($seen->{x_ir_user}, 'alice', "$name: X-IR-User is the module's");
    is($seen->{x_ir_org}, 'bank', "$name: X-IR-Org is the module's");
    is($seen->{x_ir_unit}, 'loans', "$name: X-IR-Unit is the module's");
    is($seen->{x_ir_contract}, 'C-1', "$name: X-IR-Contract is the module's");
    is(join(' ', sort split ' ', $seen->{x_ir_scopes} // ''),
       'person.address person.basic', "$name: X-IR-Scopes is the module's");
    is($seen->{x_ir_country}, 'LV', "$name: X-IR-Country is the module's");
    is($seen->{x_ir_cert}, $t->sha256('alice'),
       "$name: X-IR-Cert is the module's");
    is($seen->{x_forwarded_for}, '10.1.2.3',
       "$name: X-Forwarded-For is the address the load balancer told");
    is($seen->{x_real_ip}, '10.1.2.3',
       "$name: X-Real-IP is the address the load balancer told");
}

like($t->access_log('ir-access.log'), qr/^10\.1\.2\.3 .* 200 user=alice /m,
     'the ir_access log format, with the client address');

# a client's headers name no address

$t->denied($t->get('/api/persons/1', proxy_from => '10.9.9.9',
                   cert => 'alice', user => 'alice:alice-pw',
                   headers => ['X-Forwarded-For: 10.1.2.3',
                               'X-Real-IP: 10.1.2.3']),
           403, 'ip_not_allowed', 'X-Forwarded-For and X-Real-IP ignored');

# only the load balancer may send the PROXY header

my $mark = $t->log_mark;
$t->denied($t->get('/api/persons/1', proxy_from => '10.1.2.3',
                   local => '127.0.0.2', cert => 'alice',
                   user => 'alice:alice-pw'),
           403, 'ip_not_allowed', 'a PROXY header from another peer ignored');
like($t->log_since($mark), qr/denied user "alice" from 127\.0\.0\.2:/,
     'the address is that peer\'s own');

$t->denied($t->get('/api/persons/1', proxy_from => '10.1.2.3',
                   cert => 'alice'),
           401, 'password_required', 'the password is required');

my $res = $t->get('/health', proxy_from => '10.1.2.3');
is($res->{status}, 200, 'the load balancer\'s probe needs no certificate');

# the metrics: the monitoring address only, and no header makes one;
# nginx logs its own refusal, and the guarded server has no such file

$t->expect_error(qr/\*\d+ access forbidden by rule, client: 127\.0\.0\.1, server: , request: "GET \/metrics /,
                 qr/\*\d+ open\(\) "\Q$d\E\/html\/metrics" failed \(2: No such file or directory\), client: 10\.1\.2\.3,/);

$res = $t->get('/metrics', plain => 1, port => $metrics_port,
               local => '127.0.0.3');
is($res->{status}, 200, 'metrics: the monitoring address');
like($res->{body}, qr/^ir_access_requests_total\{/m, 'metrics: the counters');

$res = $t->get('/metrics', plain => 1, port => $metrics_port,
               headers => ['X-Forwarded-For: 127.0.0.3',
                           'X-Real-IP: 127.0.0.3']);
is($res->{status}, 403, 'metrics: another address naming it in headers');

$res = $t->get('/metrics', proxy_from => '10.1.2.3', cert => 'alice',
               user => 'alice:alice-pw');
is($res->{status}, 404, 'metrics: not on the guarded server');
unlike($res->{body}, qr/ir_access_requests_total/,
       'metrics: no counters there');

# conf.example, the complete configuration the demo runs, passes
# "nginx -t" with this test's paths

install_file('conf.example', 'example/nginx.conf',
    qr{/usr/lib/nginx/modules/ngx_http_ir_access_module\.so}
        => $t->{module},
    qr/127\.0\.0\.1:6379;/ => $t->redis_addr . ';',
    qr{/usr/share/ir-access/geo-whois-asn-country\.mmdb} => $mmdb,
    qr{/etc/nginx/ir-access/} => "$d/",
    qr{/run/ir-access-nginx\.pid} => "$d/example.pid",
    qr{/var/log/nginx/} => "$d/logs/");

$out = qx{$t->{nginx} -p $d -c $d/example/nginx.conf -t 2>&1};
is($?, 0, 'nginx -t passes with conf.example') or diag($out);

# and in every file, every guarded server sets each header the backend
# may trust, clears the password, and trusts no header for the address

for my $file ('conf.example', 'conf/sites-available/ir-access') {
    open my $f, '<', "$ROOT/$file" or die "$file: $!";
    my $text = do { local $/; <$f> };
    close $f;

    unlike($text, qr/^\s*real_ip_header\s++(?!proxy_protocol;)/m,
           "$file: the address from the PROXY protocol only");

    my @guarded = grep { /^\s*ir_access\s+on;/m }
                  split /^\s*server\s*\{/m, $text;
    ok(@guarded >= 2, "$file: two guarded servers");

    for my $server (@guarded) {
        my ($name) = $server =~ /server_name\s+([^;]+);/;
        $name //= '?';
        my @missing = grep { $server !~ /^\s*proxy_set_header\s+$_\s/m }
                      map { "X-IR-$_" }
                      qw(User Org Unit Contract Scopes Country Cert);
        push @missing, 'Authorization ""'
            unless $server =~ /^\s*proxy_set_header\s+Authorization\s+""\s*;/m;
        is("@missing", '', "$file, $name: every X-IR-* header set, "
                           . 'Authorization cleared');
        like($server, qr/^\s*listen\s+[^;]*\bproxy_protocol;/m,
             "$file, $name: behind the load balancer's PROXY protocol");
    }
}

$t->check_log;

done_testing;
