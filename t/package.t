#!/usr/bin/perl

# The Debian package that "make deb" built, as an operator installs it:
# "apt-get install ./...deb" into Debian's nginx, which then loads it with
# the system's own configuration; a separate nginx that includes what the
# package enabled serves a guarded request; the documents are there, and
# the audit archiver's service, disabled; "apt-get remove" and "purge"
# take it all away again.  The system's nginx is neither stopped nor
# disabled nor left changed.
#
# Run by "make test-deb" (which builds the package first); skipped when
# there is no package, or one older than the sources, or when not root.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Cwd qw(abs_path);
use Test::More;
use IrTest;

my $ROOT = abs_path("$FindBin::Bin/..");
my $PACKAGE = 'libnginx-mod-http-ir-access';
my $SO = '/usr/lib/nginx/modules/ngx_http_ir_access_module.so';
my $AVAILABLE = '/usr/share/nginx/modules-available/mod-http-ir-access.conf';
my $ENABLED = '/etc/nginx/modules-enabled/50-mod-http-ir-access.conf';
my $DOC = "/usr/share/doc/$PACKAGE";
my $SERVICE = '/usr/lib/systemd/system/ir-access-archive.service';
my $WANTS = '/etc/systemd/system/multi-user.target.wants/'
            . 'ir-access-archive.service';

open my $h, '<', "$ROOT/src/ngx_http_ir_version.h" or die;
my ($version) = map { /^#define NGX_HTTP_IR_ACCESS_VERSION\s+"(.+)"$/ ? $1 : () }
                <$h>;
close $h;

chomp(my $arch = qx{dpkg --print-architecture});
my $deb = (abs_path($ENV{IR_DEB_DIR} // "$ROOT/build/deb") // '?')
          . "/${PACKAGE}_${version}_$arch.deb";

plan skip_all => 'not root: installing a package needs root' if $> != 0;
plan skip_all => "no package $deb: \"make test-deb\" builds and tests it"
    unless -f $deb;

# a package older than what it is built from would test old code

my ($newest) = sort { -M $a <=> -M $b }
               grep { -f }
               map { glob "$ROOT/$_" }
               qw(config *.c src/* debian/* debian/*/* conf.example conf/*/*
                  README.md docs/*);
plan skip_all => "$deb is older than $newest: \"make test-deb\" rebuilds it"
    if -M $deb > -M $newest;

plan skip_all => "$PACKAGE is installed already: not this test's to replace "
                 . 'or remove' if installed($PACKAGE);
plan skip_all => 'Debian\'s nginx is not installed' unless installed('nginx');

sub installed {
    my ($p) = @_;
    return qx{dpkg-query -W -f '\${Status}' $p 2>/dev/null} =~ /ok installed/;
}

sub apt {
    my $out = qx{DEBIAN_FRONTEND=noninteractive apt-get -y -q \\
                 -o DPkg::Lock::Timeout=120 @_ 2>&1};
    return ($? == 0, $out);
}

# What must be as it was afterwards: the system nginx (running or not, and
# its master), its files, its start-up links.

sub system_state {
    my $state = '';

    $state .= "/run/nginx.pid\n" if -e '/run/nginx.pid';

    if (open my $f, '<', '/run/nginx.pid') {
        my $pid = <$f> // '';
        chomp $pid;
        $state .= "nginx master $pid "
                  . (kill(0, $pid) ? "running\n" : "not running\n")
            if $pid =~ /^\d+$/;
    }

    $state .= qx{find /etc/nginx /usr/share/nginx/modules-available \\
                      /usr/lib/nginx/modules -printf '%p %y %l %s\\n' \\
                      2>/dev/null | sort};
    $state .= qx{find /etc/nginx -type f -exec md5sum {} + | sort};
    $state .= qx{ls /etc/rc?.d 2>/dev/null | grep nginx};
    $state .= qx{systemctl is-enabled nginx 2>&1}
        if -d '/run/systemd/system';

    return $state;
}

my $before = system_state();

# "nginx -t" with the system's configuration (-T: and print it); it leaves
# an empty pid file where there was none, which is taken away again

sub system_nginx_t {
    my $had_pid = -e '/run/nginx.pid';
    my $out = qx{nginx -T 2>&1};
    my $ok = $? == 0;
    unlink '/run/nginx.pid' if !$had_pid && -z '/run/nginx.pid';
    return ($ok, $out);
}
my $ours;

END {
    # a test that died half-way leaves no package behind
    local $?;
    apt('purge', $PACKAGE) if $ours && installed($PACKAGE);
}

# install

my ($ok, $out) = apt('install', $deb);
$ours = 1;
if (!ok($ok, "apt-get install $deb")) {
    diag($out);
    done_testing;
    exit;
}

is(qx{dpkg-query -W -f '\${Version}' $PACKAGE}, $version,
   "the package's version is the module's, $version");
like(qx{dpkg-query -W -f '\${Depends}' $PACKAGE},
     qr/^nginx-abi-\S+(,|$)/, 'it depends on the nginx ABI');
like(qx{dpkg-query -W -f '\${Depends}' $PACKAGE},
     qr/libhiredis.*libmaxminddb|libmaxminddb.*libhiredis/,
     'and on the libraries the module links');

ok(-f $SO, "the module in $SO");
is(readlink($ENABLED), $AVAILABLE, "enabled: $ENABLED");
ok(-f "$DOC/$_", "$DOC/$_")
    for qw(README.md.gz changelog.gz changelog.Debian.gz directives.md.gz
           redis-schema.md.gz operations.md.gz ir-access.md.gz audit.md.gz
           copyright examples/conf.example
           examples/conf.d/ir-access.conf examples/sites-available/ir-access);
ok(-f '/usr/share/man/man1/ir-access.1.gz', 'the tool\'s manual page, '
   . '"man ir-access"');
ok(!-e '/etc/nginx/conf.d/ir-access.conf'
   && !-e '/etc/nginx/sites-enabled/ir-access',
   'the example configuration is not enabled');
like(-f $SERVICE ? do { local (@ARGV, $/) = $SERVICE; <> } : '',
     qr{^ExecStart=/usr/bin/ir-access .*audit archive }m,
     "the audit archiver's service, $SERVICE");
ok(!-e $WANTS, 'installed disabled: not wanted by multi-user.target');

# Debian's nginx loads it with the system's configuration

($ok, $out) = system_nginx_t();
ok($ok, 'nginx -t with the system configuration') or diag($out);
like($out, qr/^load_module \Q$SO\E;$/m, 'which loads the module');

# a separate nginx, on its own prefix and ports, with what the package
# enabled, serves a guarded request

{
    my $t = IrTest->new(module => $SO);

    $t->start_redis;
    $t->client_cert('alice');
    $t->org('bank', name => 'Test Bank');
    $t->user('alice', ips => ['10.0.0.1']);

    # Debian's other modules are enabled as "load_module modules/...",
    # relative to the prefix: Debian's has this link, and so does this one
    symlink '/usr/lib/nginx/modules', $t->dir . '/modules' or die;

    $t->write_config("ir_access_redis %%REDIS%%;\n" . IrTest->guarded_server,
                     load => 'include /etc/nginx/modules-enabled/*.conf;');

    my ($ok, $out) = $t->test_config;
    ok($ok, 'nginx -t, the module from modules-enabled') or diag($out);

    $t->start_nginx;

    $t->allowed($t->get('/', cert => 'alice', ip => '10.0.0.1'),
                'the packaged module');
    $t->denied($t->get('/', ip => '10.0.0.1'), 403, 'cert_required',
               'the packaged module');
    like($t->error_log, qr{\[notice\] \d+#\d+: ir_access/\Q$version\E;}m,
         "it logs its version, $version");

    $t->check_log;
    $t->stop_nginx;
    $t->stop_redis;
}

# remove, then purge

($ok, $out) = apt('remove', $PACKAGE);
ok($ok, "apt-get remove $PACKAGE") or diag($out);
ok(!-e $SO, 'removed: no module');
ok(!-e $ENABLED, 'removed: not enabled');

($ok, $out) = system_nginx_t();
ok($ok, 'removed: nginx -t with the system configuration') or diag($out);
unlike($out, qr/ngx_http_ir_access_module/, 'removed: nothing loads it');

($ok, $out) = apt('purge', $PACKAGE);
ok($ok, "apt-get purge $PACKAGE") or diag($out);
ok(!installed($PACKAGE), 'purged: not installed');
is(join(' ', glob '/etc/nginx/modules-enabled/*ir-access*'), '',
   'purged: nothing left in modules-enabled');
ok(!-e $AVAILABLE, 'purged: nothing left in modules-available');
ok(!-e $SERVICE && !-e $WANTS, 'purged: no archiver service');

is(system_state(), $before,
   'the system\'s nginx, its files and its start-up links as they were');

done_testing;
