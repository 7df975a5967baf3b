#!/usr/bin/perl

# The module's version (NGX_HTTP_IR_ACCESS_VERSION) is logged once at
# notice level each time a configuration is loaded, by its first worker;
# and a module that is loaded but not configured (as the Debian package
# loads it into every nginx that includes modules-enabled) changes nothing.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep);
use IrTest;

my $header = "$FindBin::Bin/../src/ngx_http_ir_version.h";
open my $h, '<', $header or die "$header: $!";
my ($version) = map { /^#define NGX_HTTP_IR_ACCESS_VERSION\s+"(.+)"$/ ? $1 : () }
                <$h>;
close $h;

ok(defined $version, "the version is in src/ngx_http_ir_version.h");
$version //= '?';

my $t = IrTest->new;

$t->write_config(<<'EOF', workers => 2);
    server {
        listen 127.0.0.1:%%PORT%%;

        location / {
            return 200 "plain\n";
        }
    }
EOF

my ($ok, $out) = $t->test_config;
ok($ok, 'nginx -t: loaded, not configured') or diag($out);

sub version_lines {
    my @lines = grep { m{\[notice\] \d+#\d+: ir_access/\Q$version\E;} }
                split /\n/, $t->error_log;
    return scalar @lines;
}

sub wait_lines {
    my ($n) = @_;
    for (1 .. 100) {
        last if version_lines() >= $n;
        sleep 0.05;
    }
    sleep 0.3;          # and no more come
    return version_lines();
}

$t->start_nginx;

is(wait_lines(1), 1, "ir_access/$version logged once by two workers");

my $res = $t->get('/', plain => 1);
is($res->{status}, 200, 'a request is served as without the module');
is($res->{body}, "plain\n", 'with the same body');

$t->reload_nginx;

is(wait_lines(2), 2, 'once more after a reload');

$t->check_log;

done_testing;
