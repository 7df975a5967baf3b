package IrTest;

# A small harness for ir-access tests: a real redis-server and a real
# nginx on free loopback ports, certificates made by openssl at test time,
# requests made with curl.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use Fcntl qw(O_WRONLY O_CREAT O_EXCL);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Redis;
use Scalar::Util qw(weaken);
use Test::More;
use Time::HiRes qw(sleep time);

my $ROOT = abs_path(dirname(__FILE__) . '/../..');

sub new {
    my ($class, %opt) = @_;

    my $dir = tempdir('ir-access-XXXXXX', TMPDIR => 1,
                      CLEANUP => !$ENV{IR_KEEP});

    # nginx, started as root, runs its workers as nobody
    chmod 0755, $dir;

    my $self = bless {
        dir     => $dir,
        module  => $ENV{IR_MODULE}
                   || "$ROOT/build/ngx_http_ir_access_module.so",
        nginx   => $ENV{IR_NGINX} || '/usr/sbin/nginx',
        certs   => {},
        name    => '',
        %opt,
    }, $class;

    die "no module at $self->{module}: run make first\n"
        unless -f $self->{module};

    # sanitizer reports, written by workers too, which run as nobody
    if (sanitized()) {
        mkdir "$dir/sanitizer";
        chmod 0777, "$dir/sanitizer";
    }

    $self->{port} = free_port();
    $self->{backend_port} = free_port();

    $self->live;

    return $self;
}

sub dir { $_[0]{dir} }

# the error log's level: debug, as nginx's own suite runs, unless the run
# says otherwise (IR_LOG_LEVEL=info: "make test-sanitize" runs both)
sub log_level { $ENV{IR_LOG_LEVEL} // 'debug' }
sub port { $_[0]{port} }
sub backend_port { $_[0]{backend_port} }

# Ports are picked below the kernel's ephemeral range, so that no outgoing
# connection (nginx to Redis, curl to nginx) can hold one before the server
# that is given it binds it, and never twice in one test: the kernel may
# hand a port just closed out again.  Between the look and the server's
# bind, another test (prove -j2, another checkout's suite) could take it
# too: a port given out is claimed, for as long as the test runs, by a
# file under $PORT_CLAIMS holding the test's pid, which no other test
# takes while that process lives.
my %given;
my $PORT_CLAIMS = '/tmp/ir-test-ports';

sub free_port {
    for (1 .. 1000) {
        my $port = 20000 + int(rand(12000));
        next if $given{$port};
        next unless claim_port($port);

        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                      LocalPort => $port, ReuseAddr => 1);
        unless ($s) {
            unlink "$PORT_CLAIMS/$port";
            next;
        }
        close $s;

        $given{$port} = $$;
        return $port;
    }

    die "no free port";
}

sub claim_port {
    my ($port) = @_;
    my $claim = "$PORT_CLAIMS/$port";

    unless (-d $PORT_CLAIMS) {
        mkdir $PORT_CLAIMS;
        chmod 01777, $PORT_CLAIMS;
    }

    if (sysopen my $f, $claim, O_WRONLY | O_CREAT | O_EXCL) {
        print $f $$;
        close $f;
        return 1;
    }

    # a claim of a test that is gone is cleared, for a later look
    my $pid = '';

    if (open my $f, '<', $claim) {
        $pid = <$f> // '';
        close $f;
    }

    unlink $claim if $pid =~ /^\d+$/ && !kill(0, $pid) && $!{ESRCH};

    return 0;
}

# the test's claims go with it, not with a child it forked
END {
    unlink map { "$PORT_CLAIMS/$_" } grep { $given{$_} == $$ } keys %given;
}

sub run {
    my (@cmd) = @_;
    my $out = qx{@cmd 2>&1};
    die "failed: @cmd\n$out" if $?;
    return $out;
}

# PKI ----------------------------------------------------------------------

sub ca {
    my ($self, $name) = @_;
    $name //= 'ca';
    my $d = $self->{dir};

    return "$d/$name.crt" if -f "$d/$name.crt";

    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256",
        "-nodes -keyout $d/$name.key -out $d/$name.crt -days 30",
        "-subj /CN=ir-test-$name");

    return "$d/$name.crt";
}

sub server_cert {
    my ($self) = @_;
    my $d = $self->{dir};

    return if -f "$d/server.crt";

    $self->ca;

    open my $f, '>', "$d/server.ext" or die;
    print $f "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    close $f;

    run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256",
        "-nodes -keyout $d/server.key -out $d/server.csr -subj /CN=localhost");
    run("openssl x509 -req -in $d/server.csr -CA $d/ca.crt -CAkey $d/ca.key",
        "-CAcreateserial -days 30 -extfile $d/server.ext",
        "-out $d/server.crt");
}

# A client certificate: client_cert('alice'), or with
# subj => '/CN=a/CN=b', ca => 'other', days => -1 (expired).

sub client_cert {
    my ($self, $name, %opt) = @_;
    my $d = $self->{dir};
    my $ca = $opt{ca} // 'ca';
    my $subj = $opt{subj} // "/CN=$name/O=ir-test";
    my $days = $opt{days} // 30;

    $self->ca($ca);

    run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256",
        "-utf8 -nodes -keyout $d/$name.key -out $d/$name.csr -subj '$subj'");

    if ($days < 0) {
        $self->sign_expired($name, $ca, $days);
    } else {
        run("openssl x509 -req -in $d/$name.csr -CA $d/$ca.crt",
            "-CAkey $d/$ca.key -CAcreateserial -days $days",
            "-out $d/$name.crt");
    }

    my $fp = run("openssl x509 -in $d/$name.crt -noout -fingerprint -sha256");
    $fp =~ s/.*=//s;
    chomp $fp;

    $self->{certs}{$name} = $fp;

    return $fp;
}

# A certificate that expired -$days days ago.  "openssl x509 -days -1"
# made one up to OpenSSL 3.4; 3.5 refuses an end before the start, and
# x509's -not_after is not in 3.0.  "openssl ca" takes both dates in both.

sub sign_expired {
    my ($self, $name, $ca, $days) = @_;
    my $d = $self->{dir};
    my $db = "$d/$ca-db";

    unless (-d $db) {
        mkdir $db or die "$db: $!";

        open my $f, '>', "$db/index.txt" or die;
        close $f;

        open $f, '>', "$db/serial" or die;
        print $f "1000\n";
        close $f;

        open $f, '>', "$db/ca.cnf" or die;
        print $f <<"EOF";
[ca]
default_ca = test_ca

[test_ca]
database        = $db/index.txt
new_certs_dir   = $db
serial          = $db/serial
default_md      = sha256
policy          = test_policy
x509_extensions = test_ext
unique_subject  = no

[test_policy]
commonName       = optional
organizationName = optional

[test_ext]
basicConstraints = CA:FALSE
EOF
        close $f;
    }

    my $utc = sub { POSIX::strftime('%Y%m%d%H%M%SZ', gmtime(time + $_[0])) };

    run("openssl ca -batch -config $db/ca.cnf -notext -preserveDN",
        "-cert $d/$ca.crt -keyfile $d/$ca.key -in $d/$name.csr",
        "-startdate", $utc->(-30 * 86400),
        "-enddate", $utc->($days * 86400),
        "-out $d/$name.crt");
}

# the fingerprint as openssl prints it: upper case with colons
sub fingerprint { $_[0]{certs}{$_[1]} }

# as the module shows it: lowercase hex
sub sha256 {
    my ($self, $name) = @_;
    my $fp = lc $self->{certs}{$name};
    $fp =~ s/://g;
    return $fp;
}

# Redis --------------------------------------------------------------------

# The test's Redis: start_redis(notify => 'KA'), stopped by stop_redis()
# and started again on the same port.  With name => 'replica' another
# server beside it, with its own port, log and dump file, stopped by
# stop_redis('replica').  Options: port => N; replicaof => PORT;
# sentinel => 1 (a Sentinel: its configuration file is its own to
# rewrite); config => [ lines of its configuration file ]; args => [ more
# command-line arguments ].  Returns a client of it.
sub start_redis {
    my ($self, %opt) = @_;
    my $d = $self->{dir};
    my $name = $opt{name} // '';
    my $tag = $name eq '' ? 'redis' : "redis-$name";

    my $s = $self->{servers}{$name} //= {};
    $s->{port} = $opt{port} // $s->{port} // free_port();
    my $port = $s->{port};

    $self->{redis_port} = $port if $name eq '';

    my @conf = ("port $port", 'bind 127.0.0.1', "dir $d",
                "logfile $d/$tag.log", 'daemonize no');

    push @conf, ('save ""', 'appendonly no', "dbfilename $tag.rdb",
                 'notify-keyspace-events "' . ($opt{notify} // '') . '"')
        unless $opt{sentinel};

    push @conf, ("unixsocket $d/redis.sock", 'unixsocketperm 777')
        if $name eq '';

    push @conf, "replicaof 127.0.0.1 $opt{replicaof}" if $opt{replicaof};
    push @conf, @{ $opt{config} || [] };

    open my $f, '>', "$d/$tag.conf" or die "$d/$tag.conf: $!";
    print $f map { "$_\n" } @conf;
    close $f;

    my @args = ("$d/$tag.conf", ($opt{sentinel} ? '--sentinel' : ()),
                @{ $opt{args} || [] });

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        exec('redis-server', @args) or POSIX::_exit(127);
    }

    if ($name eq '') {
        $s->{pid} = $pid;
    } else {
        $s->{server} = IrTest::Server->new($pid)->live;
    }

    for (1 .. 100) {
        my $r = eval { Redis->new(server => "127.0.0.1:$port",
                                  reconnect => 0, every => 100_000,
                                  ($opt{sentinel} ? () : (name => 'ir-test')))
                     };
        if ($r) {
            $self->{redis} = $r if $name eq '';
            return $r;
        }
        sleep 0.05;
    }

    die "redis-server $tag did not start on port $port";
}

sub stop_redis {
    my ($self, $name) = @_;
    $name //= '';

    my $s = $self->{servers}{$name} or return;

    if ($name ne '') {
        my $server = delete $s->{server} or return;
        $server->stop_redis;
        return;
    }

    my $pid = delete $s->{pid} or return;

    kill 'TERM', $pid;
    waitpid $pid, 0;

    delete $self->{redis};
}

# the port of the test's Redis, or of the one named
sub redis_port {
    my ($self, $name) = @_;
    return $self->{servers}{$name // ''}{port};
}

sub redis {
    my ($self) = @_;
    return $self->{redis} //= Redis->new(
        server => "127.0.0.1:$self->{redis_port}", name => 'ir-test');
}

# How many connections to Redis nginx holds: the harness's own are named.
sub nginx_clients {
    my ($self) = @_;
    my @c = grep { !/ name=ir-test / } split /\n/, $self->redis->client_list;
    return scalar @c;
}

sub redis_addr { "127.0.0.1:$_[0]{redis_port}" }
sub redis_sock { "$_[0]{dir}/redis.sock" }

# A user as admins provision one: user('alice', ips => [...], cert =>
# 'alice', org => 'bank', and any other hash fields).

sub user {
    my ($self, $name, %f) = @_;
    my $r = $self->redis;

    my $ips = delete $f{ips};
    my $cert = delete $f{cert} // $name;

    $f{cert} = $self->fingerprint($cert) if defined $self->fingerprint($cert);
    $f{org} //= 'bank';

    $r->del("ir:user:$name", "ir:user:$name:ips");
    $r->hset("ir:user:$name", $_, $f{$_}) for sort keys %f;
    $r->sadd("ir:user:$name:ips", @$ips) if $ips && @$ips;
}

sub org {
    my ($self, $name, %f) = @_;
    my $r = $self->redis;

    my $scopes = delete $f{scopes};

    $r->del("ir:org:$name", "ir:org:$name:scopes");
    $r->hset("ir:org:$name", $_, $f{$_}) for sort keys %f;
    $r->sadd("ir:org:$name:scopes", @$scopes) if $scopes && @$scopes;
}

# GeoIP --------------------------------------------------------------------

# A small MaxMind DB: write_mmdb('geo.mmdb', { '10.1.0.0/16' => 'LV' }),
# in MaxMind's layout (country/iso_code) or, with flat => 1, in the
# ip-location-db layout (country_code).

sub write_mmdb {
    my ($self, $name, $networks, %opt) = @_;

    require MaxMind::DB::Writer::Tree;

    my %types = (country => 'map', iso_code => 'utf8_string',
                 country_code => 'utf8_string');

    my $tree = MaxMind::DB::Writer::Tree->new(
        ip_version               => 6,
        record_size              => 24,
        database_type            => 'ir-access-test-country',
        languages                => ['en'],
        description              => { en => 'ir-access test countries' },
        map_key_type_callback    => sub { $types{ $_[0] } },
        remove_reserved_networks => 0,
    );

    for my $net (sort keys %$networks) {
        my $cc = $networks->{$net};
        $tree->insert_network($net, $opt{flat}
                                    ? { country_code => $cc }
                                    : { country => { iso_code => $cc } });
    }

    my $path = "$self->{dir}/$name";
    open my $f, '>:raw', $path or die;
    $tree->write_tree($f);
    close $f;

    return $path;
}

# nginx --------------------------------------------------------------------

# The TLS part of a guarded server, for tests to paste into theirs.
sub tls {
    my ($self, $verify) = @_;
    my $d = $self->{dir};
    $verify //= 'optional';

    $self->server_cert;

    return <<"EOF";
        ssl_certificate         $d/server.crt;
        ssl_certificate_key     $d/server.key;
        ssl_client_certificate  $d/ca.crt;
        ssl_verify_client       $verify;

        set_real_ip_from        127.0.0.1;
        real_ip_header          X-Real-IP;
EOF
}

# Writes nginx.conf around the test's http block.  %%PORT%%,
# %%BACKEND%%, %%REDIS%%, %%REDIS_SOCK%%, %%DIR%% and %%TLS%% are filled in.
# load => '...' replaces the harness's load_module line (the installed
# package's: 'include /etc/nginx/modules-enabled/*.conf;').
sub write_config {
    my ($self, $http, %opt) = @_;
    my $d = $self->{dir};

    my $tls = $self->tls($opt{verify});

    $http =~ s/%%TLS%%/$tls/g;
    $http =~ s/%%PORT%%/$self->{port}/g;
    $http =~ s/%%BACKEND%%/$self->{backend_port}/g;
    $http =~ s/%%REDIS%%/$self->redis_addr/ge;
    $http =~ s/%%REDIS_SOCK%%/$self->redis_sock/ge;
    $http =~ s/%%DIR%%/$d/g;

    # nginx's own suite runs at debug; IR_LOG_LEVEL=info is the level a
    # sanitized run also needs, where nginx's debug lines would hide the
    # module's reports (see sanitizer_reports)
    my $level = log_level();

    my $workers = $opt{workers} // 1;
    $self->{workers} = $workers;
    my $main = $opt{main} // '';
    my $load = $opt{load} // "load_module $self->{module};";

    # a binary upgrade hands the new nginx only the variables named by
    # "env": the sanitizers' options are among them
    $main = "env ASAN_OPTIONS;\nenv UBSAN_OPTIONS;\n$main" if sanitized();

    mkdir "$d/logs";
    mkdir "$d/tmp";

    open my $f, '>', "$d/nginx$self->{name}.conf" or die;
    print $f <<"EOF";
$load

worker_processes $workers;
pid $d/nginx$self->{name}.pid;
error_log $d/logs/error$self->{name}.log $level;
$main

events {
    worker_connections 1024;
}

http {
    access_log $d/logs/access.log;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;

    server {
        listen 127.0.0.1:$self->{backend_port};

        location / {
            default_type application/json;
            return 200 '{"person":"sample","uri":"\$uri","user":"\$http_x_ir_user","org":"\$http_x_ir_org","unit":"\$http_x_ir_unit","contract":"\$http_x_ir_contract","scopes":"\$http_x_ir_scopes","country":"\$http_x_ir_country"}';
        }
    }

$http
}
EOF
    close $f;
}

# The usual guarded server: "/" decided (with any extra directives), and
# "/open" left alone.
sub guarded_server {
    my ($class, $extra) = @_;
    $extra //= '';

    return <<"CONF";
    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        location / {
            ir_access on;
            $extra
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /open {
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }
    }
CONF
}

# nginx's version as its nginx_version macro has it: 1.26.3 is 1026003.
my $nginx_version;

sub nginx_version {
    return $nginx_version if defined $nginx_version;

    my $nginx = $ENV{IR_NGINX} || '/usr/sbin/nginx';
    my $out = qx{$nginx -v 2>&1};
    $out =~ m{nginx/(\d+)\.(\d+)\.(\d+)} or die "nginx -v: $out";

    return $nginx_version = $1 * 1000000 + $2 * 1000 + $3;
}

# HTTP/2 on the TLS servers of a piece of configuration, as this nginx
# wants it: "listen ... ssl http2;" before 1.25.1, and from 1.25.1, where
# that parameter is deprecated, "http2 on;" once in each server.
sub http2 {
    my ($class, $conf) = @_;

    if (nginx_version() >= 1025001) {
        my @servers = split /(?=\bserver\s*\{)/, $conf;
        s/^(\s*)(listen\s[^;]*\sssl;\n)/$1$2$1http2 on;\n/m for @servers;
        return join '', @servers;
    }

    $conf =~ s/^(\s*listen\s[^;]*\sssl);/$1 http2;/mg;

    return $conf;
}

# Rewrites the written nginx.conf with a function of its text.
sub edit_config {
    my ($self, $edit) = @_;
    my $f = "$self->{dir}/nginx$self->{name}.conf";

    open my $in, '<', $f or die;
    local $_ = do { local $/; <$in> };
    close $in;

    $edit->();

    open my $out, '>', $f or die;
    print $out $_;
    close $out;
}

# Runs nginx on the test's configuration, with arguments; returns its
# exit status and output.
sub nginx {
    my ($self, $args) = @_;
    my $d = $self->{dir};

    local %ENV = (%ENV, $self->sanitizer_env($args));

    my $out = qx{$self->{nginx} -p $d -c $d/nginx$self->{name}.conf $args 2>&1};
    my $rc = $?;

    $self->keep_output($args, $out);

    return ($rc, $out);
}

sub test_config {
    my ($self) = @_;
    my ($rc, $out) = $self->nginx('-t');
    return ($rc == 0, $out);
}

sub start_nginx {
    my ($self) = @_;
    my $d = $self->{dir};

    my ($rc, $out) = $self->nginx('');
    die "nginx did not start:\n$out" if $rc;

    for (1 .. 100) {
        last if -s "$d/nginx$self->{name}.pid";
        sleep 0.02;
    }

    $self->{nginx_running} = 1;
    $self->{master} = $self->nginx_pid;
    $self->wait_workers($self->{workers} // 1);

    $self->module_mapped if sanitized();
}

sub nginx_pid {
    my ($self) = @_;
    open my $f, '<', "$self->{dir}/nginx$self->{name}.pid" or return;
    my $pid = <$f>;
    chomp $pid;
    return $pid;
}

sub worker_pids {
    my ($self) = @_;
    my $master = $self->nginx_pid or return ();
    my @pids = split ' ', qx{pgrep -P $master};
    return @pids;
}

sub wait_workers {
    my ($self, $n) = @_;
    for (1 .. 100) {
        return if $self->worker_pids >= $n;
        sleep 0.02;
    }
}

sub reload_nginx {
    my ($self) = @_;
    my ($rc, $out) = $self->nginx('-s reload');
    die "reload failed:\n$out" if $rc;
}

sub stop_nginx {
    my ($self) = @_;
    return unless $self->{nginx_running};
    my $pid = $self->nginx_pid // $self->{master};
    if ($pid) {
        kill 'QUIT', $pid;

        # a sanitized worker looks for leaks as it exits
        for (1 .. (sanitized() ? 1500 : 250)) {
            last unless kill 0, $pid;
            sleep 0.02;
        }
        if (kill 0, $pid) {
            # its workers would go on serving without it
            my @workers = $self->worker_pids;
            kill 'KILL', $pid, @workers;
        }
    }
    delete $self->{nginx_running};
}

sub error_log {
    my ($self) = @_;
    open my $f, '<', "$self->{dir}/logs/error$self->{name}.log" or return '';
    local $/;
    return <$f>;
}

sub access_log {
    my ($self, $name) = @_;
    $name //= 'access.log';
    open my $f, '<', "$self->{dir}/logs/$name" or return '';
    local $/;
    return <$f>;
}

# Lines the module logged after a point, for assertions on one request.
sub log_mark { length($_[0]->error_log) }

sub log_since {
    my ($self, $mark) = @_;
    return substr($self->error_log, $mark);
}

# Requests -----------------------------------------------------------------

# get('/path', cert => 'alice', ip => '10.0.0.1', headers => [...],
#     user => 'alice:secret', port => ..., host => ...)
# returns { status, body, headers => { lowercase name => value } }
#
# proxy_from => '10.0.0.1' begins the connection with a PROXY protocol
# header naming that client, as a TCP load balancer does (for servers that
# listen with proxy_protocol; tools/proxy-curl, HTTP/1.1 only);
# local => '127.0.0.2' connects from that address of the host;
# http2 => 1 speaks HTTP/2, http3 => 1 HTTP/3 over QUIC alone.

sub curl_args {
    my ($self, $path, %o) = @_;
    my $d = $self->{dir};
    my $port = $o{port} // $self->{port};
    my $scheme = $o{plain} ? 'http' : 'https';

    my @a = ($o{proxy_from} ? ("$ROOT/tools/proxy-curl",
                                '--from', $o{proxy_from})
                             : 'curl',
             '-s', '--max-time', $o{timeout} // 30,
             '--cacert', "$d/ca.crt");

    push @a, '--interface', $o{local} if $o{local};

    if ($o{cert}) {
        push @a, '--cert', "$d/$o{cert}.crt", '--key', "$d/$o{cert}.key";
    }

    push @a, '-H', "X-Real-IP: $o{ip}" if $o{ip};
    push @a, '-H', $_ for @{ $o{headers} || [] };
    push @a, '-u', $o{user} if defined $o{user};
    push @a, '-X', $o{method} if $o{method};
    push @a, '--http2' if $o{http2};
    push @a, '--http3-only' if $o{http3};

    push @a, "$scheme://127.0.0.1:$port$path";

    return @a;
}

# HTTP/3 over loopback may lose a request to QUIC itself under load: a
# stream whose header block waits for QPACK encoder instructions that
# never come (nginx: "http3 block stream", then "failed to send stream
# cancellation"), before any module sees it.  Such a request, with no
# answer at all (status 0), is sent again, twice at most, on a
# connection of its own; any answer is the test's.
sub get {
    my ($self, $path, %o) = @_;

    return $self->get_once($path, %o) unless $o{http3};

    my $res;

    for my $try (1 .. 3) {
        $res = $self->get_once($path, timeout => 10, %o);
        last if $res->{status};
        Test::More::diag("HTTP/3 $path: no answer (try $try of 3)");
    }

    return $res;
}

sub get_once {
    my ($self, $path, %o) = @_;
    my $d = $self->{dir};
    my $tag = $$ . '-' . int(rand(1e9));

    my @a = $self->curl_args($path, %o);
    splice @a, 1, 0, '-D', "$d/h-$tag", '-o', "$d/b-$tag",
                     '-w', '%{http_code}';

    open my $p, '-|', @a or die "curl: $!";
    my $status = <$p> // '';
    close $p;

    my $res = { status => $status + 0, body => '', headers => {} };

    if (open my $b, '<', "$d/b-$tag") {
        local $/;
        $res->{body} = <$b> // '';
        close $b;
    }

    if (open my $h, '<', "$d/h-$tag") {
        local $_;
        while (<$h>) {
            s/\r?\n$//;
            $res->{headers}{lc $1} = $2 if /^([^:\s]+):\s*(.*)$/;
        }
        close $h;
    }

    unlink "$d/b-$tag", "$d/h-$tag";

    return $res;
}

# Many requests at once from one curl, as HTTP/2 streams on one connection
# where http2 => 1: parallel([ [ '/path', %get_options ], ... ]) returns
# ({ status, body }, ...) in the order given, and the connections used.
sub parallel {
    my ($self, $requests, %common) = @_;
    my $d = $self->{dir};
    my $tag = $$ . '-' . int(rand(1e9));
    my @cmd;
    my $i = 0;

    for my $q (@$requests) {
        my ($path, %o) = @$q;
        my @a = $self->curl_args($path, %common, %o);
        shift @a;
        push @cmd, '--next' if $i;
        push @cmd, '-o', "$d/p-$tag-$i", '-w', "$i %{http_code} %{num_connects}\n",
                   @a;
        $i++;
    }

    # HTTP/2 waits to multiplex on one connection, HTTP/1.1 opens many
    my @immediate = $common{http2} ? () : ('--parallel-immediate');

    # curl draws a progress meter for parallel transfers, whatever "-s" says
    my $pid = open my $p, '-|' // die "fork: $!";
    if ($pid == 0) {
        open STDERR, '>', '/dev/null';
        exec 'curl', '-s', '-Z', '--parallel-max', scalar(@$requests),
             @immediate, @cmd or POSIX::_exit(1);
    }
    my @out = <$p>;
    close $p;

    my (@res, $connects);

    for (@out) {
        my ($n, $status, $c) = split ' ';
        $connects += $c;
        my $body = '';
        if (open my $b, '<', "$d/p-$tag-$n") {
            local $/;
            $body = <$b> // '';
            close $b;
            unlink "$d/p-$tag-$n";
        }
        $res[$n] = { status => $status + 0, body => $body };
    }

    return wantarray ? (\@res, $connects) : \@res;
}

# The same request in the background: returns a handle for collect().
sub start_get {
    my ($self, $path, %o) = @_;
    my $d = $self->{dir};
    my $tag = "bg-" . int(rand(1e9));

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my $res = $self->get($path, %o);
        open my $f, '>', "$d/$tag" or POSIX::_exit(1);
        print $f "$res->{status}\n$res->{body}";
        close $f;
        POSIX::_exit(0);
    }

    return { pid => $pid, file => "$d/$tag" };
}

sub running {
    my ($self, $h) = @_;
    return waitpid($h->{pid}, WNOHANG) == 0;
}

sub collect {
    my ($self, $h) = @_;
    waitpid $h->{pid}, 0;
    open my $f, '<', $h->{file} or return { status => 0, body => '' };
    my $status = <$f>;
    local $/;
    my $body = <$f> // '';
    close $f;
    unlink $h->{file};
    chomp $status;
    return { status => $status + 0, body => $body };
}

# Repeats a request until it gets the status (or gives up after about five
# seconds); returns the last status.
sub poll_status {
    my ($self, $path, $want, %o) = @_;
    my $status = 0;

    for (1 .. 50) {
        $status = $self->get($path, %o)->{status};
        last if $status == $want;
        sleep 0.1;
    }

    return $status;
}

# How soon a request gets the status, polled every 10 ms for about a
# second: the seconds it took, or undef.
sub time_to_status {
    my ($self, $path, $want, %o) = @_;
    my $start = time;

    for (1 .. 100) {
        return time - $start if $self->get($path, %o)->{status} == $want;
        sleep 0.01;
    }

    return undef;
}

# Waits until a condition holds, for up to $seconds (5 by default):
# returns its last value, false if it never held.
sub wait_for {
    my ($self, $cond, $seconds) = @_;
    my $end = time + ($seconds // 5);

    while (1) {
        my $v = eval { $cond->() };
        return $v if $v || time >= $end;
        sleep 0.05;
    }
}

# The audit trail and the metrics ------------------------------------------

# The entries of the audit stream as hashes: the decisions, or with
# events => 1 the events; stream => KEY for another stream.
sub audit_entries {
    my ($self, %o) = @_;
    my @e;

    for my $x (@{ $self->redis->xrange($o{stream} // 'ir:audit', '-', '+')
                  || [] })
    {
        my %f = (@{ $x->[1] }, _id => $x->[0]);
        push @e, \%f if $o{events} xor !exists $f{event};
    }

    return @e;
}

# The entries once there are at least $n of them (or after five seconds).
sub wait_audit {
    my ($self, $n, %o) = @_;
    my @e;

    for (1 .. 100) {
        @e = $self->audit_entries(%o);
        last if @e >= $n;
        sleep 0.05;
    }

    return @e;
}

# Empties the stream once the entries of earlier requests have landed: its
# length has not changed for a while.
sub audit_reset {
    my ($self, %o) = @_;
    my $key = $o{stream} // 'ir:audit';
    my ($last, $same) = (-1, 0);

    for (1 .. 100) {
        my $n = $self->redis->xlen($key);
        $same = ($n == $last) ? $same + 1 : 0;
        $last = $n;
        last if $same >= 3;
        sleep 0.05;
    }

    $self->redis->del($key);
}

# The metrics as name{labels} => value, from the status location.
sub metrics {
    my ($self, $path) = @_;
    my %m;

    for (split /\n/, $self->get($path // '/metrics')->{body}) {
        next if /^#/;
        $m{$1} = $2 if /^(\S+) (\S+)$/;
    }

    return %m;
}

# Errors a test provokes -------------------------------------------------

# The [error] lines a test may leave in the log: the module's own
# denials, and those it declares that it provokes (Redis stopped, a bad
# record, a refused AUTH, nginx's own "access forbidden by rule" ...):
# $t->expect_error(qr/.../, ...) before the action, for the lines logged
# from then on, or $t->check_log(expect => [ qr/.../ ]) for the whole
# log.  Any other [error] line fails the test in check_log.
my @expected = (qr/ ir_access: denied /, qr/ ir_access: dry run, would deny /);

sub expect_error {
    my ($self, @re) = @_;
    my $mark = $self->log_mark;
    push @{ $self->{expect}{ $self->{name} } }, map { [ $_, $mark ] } @re;
}

# The [error] lines that the test's Redis (or the one named) being away
# makes from now on: connections lost and refused.
sub expect_redis_down {
    my ($self, $name) = @_;
    my $addr = '127.0.0.1:' . $self->redis_port($name);

    $self->expect_error(
        qr/ ir_access: lost the connection to Redis at "\Q$addr\E": /,
        qr/ ir_access: could not connect to Redis at "\Q$addr\E": Connection refused/);
}

sub check_errors {
    my ($self, @re) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my @expect = ((map { [ $_, 0 ] } @expected, @re),
                  @{ $self->{expect}{ $self->{name} } || [] });
    my $log = $self->error_log;
    my @unexpected;

    while ($log =~ m{^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[error\] .*)$}mg) {
        my ($line, $at) = ($1, $-[0]);
        push @unexpected, $line
            unless grep { $at >= $_->[1] && $line =~ $_->[0] } @expect;
    }

    ok(!@unexpected, 'no [error] line the test did not expect')
        or diag(join "\n", @unexpected);
}

# ir-access, the administrators' tool ------------------------------------

# Runs the tool against this test's Redis (unless the arguments say -c or
# --redis): tool('check', '--json') returns (exit status, stdout, stderr).
sub tool {
    my ($self, @args) = @_;
    my $d = $self->{dir};
    my $tool = $ENV{IR_TOOL} || "$ROOT/build/ir-access";

    die "no tool at $tool: run make tool\n" unless -x $tool;

    my @conn = (grep { $_ eq '-c' || $_ eq '--redis' } @args)
               ? () : ('--redis', $self->redis_addr);

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$d/tool.out" or POSIX::_exit(127);
        open STDERR, '>', "$d/tool.err" or POSIX::_exit(127);
        exec $tool, @conn, @args or POSIX::_exit(127);
    }

    waitpid $pid, 0;
    my $status = $? >> 8;

    my @out;
    for my $f ("$d/tool.out", "$d/tool.err") {
        open my $h, '<', $f or die "$f: $!";
        local $/;
        push @out, <$h> // '';
        close $h;
    }

    return ($status, @out);
}

# Assertions ---------------------------------------------------------------

sub denied {
    my ($self, $res, $status, $reason, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    is($res->{status}, $status, "$name: status $status");
    like($res->{body}, qr/^\{"error":"\Q$reason\E","request_id":"[0-9a-f]{32}"\}$/,
         "$name: reason $reason")
        or diag("body: $res->{body}");
}

sub allowed {
    my ($self, $res, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    is($res->{status}, 200, "$name: allowed")
        or diag("body: $res->{body}");
}

# Every test ends here: nothing alarming in the error log, no worker that
# crashed or exited with an error, and, with a sanitized nginx, no
# sanitizer report about the module from any of its processes.
sub check_log {
    my ($self, %opt) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    $self->check_errors(@{ $opt{expect} || [] });

    my ($bad, $nginx) = $self->log_problems;

    ok(!@$bad, 'no alerts, critical errors, failed workers'
               . ' or sanitizer reports in the logs')
        or diag(join "\n", @$bad);

    note(scalar(@$nginx) . " sanitizer reports of nginx's own code:\n"
         . join "\n", map { @$_, '' } @$nginx)
        if @$nginx;
}

# The lines that fail a test, and nginx's own sanitizer reports.
sub log_problems {
    my ($self) = @_;

    my $log = $self->error_log;
    my @bad = grep { /\[(alert|crit|emerg)\]|exited on signal
                      |exited\ with\ code\ [1-9]/x }
              split /\n/, $log;

    my ($module, $nginx) = $self->sanitizer_reports($log);

    push @bad, map { ($self->symbolize(@$_), '') } @$module;

    return (\@bad, $nginx);
}

# Sanitizers ---------------------------------------------------------------
#
# "make test-sanitize" runs the suite with nginx and the module both built
# with AddressSanitizer and UBSan, and sets their options in ASAN_OPTIONS
# and UBSAN_OPTIONS.  Reports reach the test three ways: ASan's and LSan's
# go to files of their own in the test's folder (log_path; the workers,
# which run as nobody, can write there); UBSan's (gcc's UBSan runtime does
# not follow log_path beside ASan) go to stderr, which is the error log
# once nginx runs, or the output of an nginx command, which is kept in the
# same folder.

sub sanitized { defined $ENV{ASAN_OPTIONS} || defined $ENV{UBSAN_OPTIONS} }

# The environment of an nginx command.  "nginx -t" and "nginx -s" exit
# leaving the configuration they read allocated, as nginx does by design:
# they are not checked for leaks.  A report never changes an exit status
# (exitcode=0): the nginx that starts the daemon exits with some of nginx's
# own memory unfreed (a regex of "rewrite", for one), and the test reads the
# reports themselves.
sub sanitizer_env {
    my ($self, $args) = @_;
    return () unless sanitized();

    my @opt = ("log_path=$self->{dir}/sanitizer/report");
    my @asan = (@opt, 'exitcode=0');
    push @asan, 'detect_leaks=0' if $args =~ /-t|-s/;

    return (ASAN_OPTIONS  => join(':', grep { length } $ENV{ASAN_OPTIONS}
                                                      // '', @asan),
            UBSAN_OPTIONS => join(':', grep { length } $ENV{UBSAN_OPTIONS}
                                                      // '', @opt));
}

my $commands = 0;

sub keep_output {
    my ($self, $args, $out) = @_;
    return unless sanitized();

    my $n = ++$commands;
    open my $f, '>', "$self->{dir}/sanitizer/nginx-$n.out" or return;
    print $f "nginx $args\n$out";
    close $f;
}

# Splits sanitizer output into reports, each a list of lines: an ASan error
# (to its summary), a leak with its stack, a UBSan error with its stack, or
# anything else a sanitizer says went wrong.
sub sanitizer_split {
    my ($text) = @_;
    my (@reports, $in);

    for (split /\n/, $text) {
        if ($in && $in eq 'asan') {
            push @{ $reports[-1] }, $_;
            undef $in if /^SUMMARY: AddressSanitizer/;

        } elsif (/ERROR: AddressSanitizer/) {
            push @reports, [$_];
            $in = 'asan';

        } elsif (/runtime error:|^(Direct|Indirect) leak of/) {
            push @reports, [$_];
            $in = 'stack';

        } elsif ($in && /^\s+#\d+ /) {
            push @{ $reports[-1] }, $_;

        } elsif (/Sanitizer/
                 && !/ERROR: LeakSanitizer: detected memory leaks/
                 && !/^SUMMARY: AddressSanitizer: \d+ byte/)
        {
            push @reports, [$_];
            undef $in;

        } else {
            undef $in;
        }
    }

    return @reports;
}

# The reports in the error log and in the folder's files not yet seen by an
# earlier check: those about the module, and nginx's own (nginx copies an
# empty string from NULL as it reads its configuration, for one).  About
# the module are:
#
#   - any AddressSanitizer error, or other failure a sanitizer reports;
#   - a leak with the module in its allocation's stack.  A leak is found as
#     the worker exits, after nginx has unloaded the module: its frames are
#     an "<unknown module>" then, and no other module is loaded;
#   - a UBSan error in the module's code, or in nginx's code that only
#     does what its caller asks (ngx_sprintf() for "%V", ngx_pstrdup()...)
#     called from the module's.  One deeper in nginx (a proxied request
#     that the module resumed, say) is nginx's own.
#
# UBSan reports each place in the code once per process: at debug level,
# nginx's own debug lines print empty strings through the same memcpy()
# as the module's log lines, and hide the module's.  "make test-sanitize"
# runs the suite at info level too (IR_LOG_LEVEL).
my %seen;

my $helpers = qr/^(ngx_sprintf_str|ngx_vslprintf|ngx_sprintf|ngx_snprintf
                  |ngx_slprintf|ngx_log_error_core|ngx_log_error
                  |ngx_pstrdup|ngx_cpystrn|ngx_copy|ngx_cpymem|ngx_memcpy
                  |ngx_escape_uri|ngx_escape_html|ngx_hex_dump
                  |ngx_encode_base64|ngx_decode_base64)$/x;

sub sanitizer_reports {
    my ($self, $log) = @_;
    my $dir = "$self->{dir}/sanitizer";
    my (@module, @nginx);

    return (\@module, \@nginx) unless sanitized();

    my @texts = ($log);

    if (opendir my $dh, $dir) {
        for my $name (sort grep { !/^\./ } readdir $dh) {
            next if $seen{"$dir/$name"}++;

            open my $f, '<', "$dir/$name" or next;
            push @texts, "$name:\n" . do { local $/; <$f> // '' };
            close $f;
        }

        closedir $dh;
    }

    for my $r (map { sanitizer_split($_) } @texts) {
        if (about_module(@$r)) {
            push @module, $r;
        } else {
            push @nginx, $r;
        }
    }

    return (\@module, \@nginx);
}

sub about_module {
    my ($first, @stack) = @_;
    my $module = qr/ngx_http_ir_|<unknown module>/;

    # ASan's errors, and whatever else a sanitizer says went wrong
    return 1 if $first =~ /Sanitizer/;

    return scalar grep { /$module/ } @stack if $first =~ /leak of/;

    return 1 if $first =~ /$module/;

    for (@stack) {
        return 1 if /$module/;
        my ($function) = /^\s+#\d+ 0x[0-9a-f]+ in (\S+)/;
        return 0 unless $function && $function =~ $helpers;
    }

    return 0;
}

# Where the master mapped the module, which its workers share: a leak's
# stack, read once the module is unloaded, has only addresses.
sub module_mapped {
    my ($self) = @_;

    no warnings 'portable';    # 64-bit addresses
    my $pid = $self->nginx_pid or return;

    open my $f, '<', "/proc/$pid/maps" or return;

    while (<$f>) {
        my ($from, $to, $path) = /^([0-9a-f]+)-([0-9a-f]+)\s.*\s(\/\S+)$/
            or next;
        next unless $path eq abs_path($self->{module});

        $self->{module_from} //= hex $from;
        $self->{module_to} = hex $to;
    }

    close $f;
}

# The sanitizers leave the module's frames as offsets into its file, or as
# addresses once it is unloaded: addr2line names them.
sub symbolize {
    my ($self, @lines) = @_;

    no warnings 'portable';    # 64-bit addresses

    for my $line (@lines) {
        my ($so, $off);

        if ($line =~ /^\s+#\d+ 0x\S+\s+\((\/\S+\.so)\+(0x[0-9a-f]+)\)$/) {
            ($so, $off) = ($1, $2);

        } elsif ($line =~ /^\s+#\d+ (0x[0-9a-f]+)\s+\(<unknown module>\)$/
                 && $self->{module_from}
                 && hex $1 >= $self->{module_from}
                 && hex $1 < $self->{module_to})
        {
            ($so, $off) = ($self->{module},
                           sprintf '0x%x', hex($1) - $self->{module_from});

        } else {
            next;
        }

        my @at = split /\n/, qx{addr2line -f -e $so $off 2>/dev/null};
        $line .= " in $at[0] $at[1]" if @at == 2 && $at[0] ne '??';
    }

    return @lines;
}

# Another nginx on the same folder, certificates and Redis: its own
# port, configuration, pid and error log.
sub instance {
    my ($self, $name) = @_;

    my $t = bless {
        %$self,
        name          => "-$name",
        port          => free_port(),
        backend_port  => free_port(),
        nginx_running => 0,
        master        => undef,
        instance      => 1,
    }, ref $self;

    return $t->live;
}

# Every test's nginx and Redis are stopped when it ends, before File::Temp
# takes its folder away: a test that ends with nginx running (and no pid
# file left to find it by) would leave it running for good.
my %live;

sub live {
    my ($self) = @_;
    $live{$self} = $self;
    weaken $live{$self};
    return $self;
}

END {
    local $?;

    for my $t (grep { defined } values %live) {
        $t->stop_nginx;
        $t->stop_redis unless $t->{instance};
    }
}

sub DESTROY {
    my ($self) = @_;
    delete $live{$self};
    $self->stop_nginx;
    $self->stop_redis unless $self->{instance};
}



# A Redis started beside the test's (start_redis(name => ...)): stopped
# with the test, as its nginx and Redis are.
package IrTest::Server;

sub new {
    my ($class, $pid) = @_;
    return bless { pid => $pid }, $class;
}

sub live { IrTest::live(@_) }

sub stop_nginx {}

sub stop_redis {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;

    local $?;    # a test's exit status, at its end

    kill 'TERM', $pid;
    waitpid $pid, 0;
}

sub DESTROY { $_[0]->stop_redis }

1;
