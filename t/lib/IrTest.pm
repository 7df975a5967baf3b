package IrTest;

# A small harness for ir-access tests: a real redis-server and a real
# nginx on free loopback ports, certificates made by openssl at test time,
# requests made with curl.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Redis;
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

    $self->{port} = free_port();
    $self->{backend_port} = free_port();

    return $self;
}

sub dir { $_[0]{dir} }
sub port { $_[0]{port} }
sub backend_port { $_[0]{backend_port} }

# Ports are picked below the kernel's ephemeral range, so that no outgoing
# connection (nginx to Redis, curl to nginx) can hold one before the server
# that is given it binds it, and never twice in one test: the kernel may
# hand a port just closed out again.
my %given;

sub free_port {
    for (1 .. 1000) {
        my $port = 20000 + int(rand(12000));
        next if $given{$port};

        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                      LocalPort => $port, ReuseAddr => 1)
            or next;
        close $s;

        $given{$port} = 1;
        return $port;
    }

    die "no free port";
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
    run("openssl x509 -req -in $d/$name.csr -CA $d/$ca.crt",
        "-CAkey $d/$ca.key -CAcreateserial -days $days -out $d/$name.crt");

    my $fp = run("openssl x509 -in $d/$name.crt -noout -fingerprint -sha256");
    $fp =~ s/.*=//s;
    chomp $fp;

    $self->{certs}{$name} = $fp;

    return $fp;
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

sub start_redis {
    my ($self, %opt) = @_;
    my $d = $self->{dir};

    $self->{redis_port} //= free_port();
    my $port = $self->{redis_port};

    my @args = ('--port', $port, '--bind', '127.0.0.1',
                '--unixsocket', "$d/redis.sock", '--unixsocketperm', '777',
                '--save', '', '--appendonly', 'no', '--daemonize', 'no',
                '--dir', $d, '--logfile', "$d/redis.log",
                '--notify-keyspace-events', $opt{notify} // '',
                @{ $opt{args} || [] });

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        exec('redis-server', @args) or die "redis-server: $!";
    }

    $self->{redis_pid} = $pid;

    for (1 .. 100) {
        my $r = eval { Redis->new(server => "127.0.0.1:$port",
                                  reconnect => 0, every => 100_000) };
        if ($r) {
            $self->{redis} = $r;
            return $r;
        }
        sleep 0.05;
    }

    die "redis-server did not start on port $port";
}

sub stop_redis {
    my ($self) = @_;
    return unless $self->{redis_pid};
    kill 'TERM', $self->{redis_pid};
    waitpid $self->{redis_pid}, 0;
    delete $self->{redis_pid};
    delete $self->{redis};
}

sub redis {
    my ($self) = @_;
    return $self->{redis} //= Redis->new(
        server => "127.0.0.1:$self->{redis_port}");
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

    my $workers = $opt{workers} // 1;
    $self->{workers} = $workers;
    my $main = $opt{main} // '';

    mkdir "$d/logs";
    mkdir "$d/tmp";

    open my $f, '>', "$d/nginx$self->{name}.conf" or die;
    print $f <<"EOF";
load_module $self->{module};

worker_processes $workers;
pid $d/nginx$self->{name}.pid;
error_log $d/logs/error$self->{name}.log info;
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

sub test_config {
    my ($self) = @_;
    my $d = $self->{dir};
    my $out = qx{$self->{nginx} -p $d -c $d/nginx$self->{name}.conf -t 2>&1};
    return ($? == 0, $out);
}

sub start_nginx {
    my ($self) = @_;
    my $d = $self->{dir};

    my $out = qx{$self->{nginx} -p $d -c $d/nginx$self->{name}.conf 2>&1};
    die "nginx did not start:\n$out" if $?;

    for (1 .. 100) {
        last if -s "$d/nginx$self->{name}.pid";
        sleep 0.02;
    }

    $self->{nginx_running} = 1;
    $self->wait_workers($self->{workers} // 1);
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
    my $d = $self->{dir};
    my $out = qx{$self->{nginx} -p $d -c $d/nginx$self->{name}.conf -s reload 2>&1};
    die "reload failed:\n$out" if $?;
}

sub stop_nginx {
    my ($self) = @_;
    return unless $self->{nginx_running};
    my $pid = $self->nginx_pid;
    if ($pid) {
        kill 'QUIT', $pid;
        for (1 .. 250) {
            last unless kill 0, $pid;
            sleep 0.02;
        }
        kill 'KILL', $pid if kill 0, $pid;
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

sub curl_args {
    my ($self, $path, %o) = @_;
    my $d = $self->{dir};
    my $port = $o{port} // $self->{port};
    my $scheme = $o{plain} ? 'http' : 'https';

    my @a = ('curl', '-s', '--max-time', $o{timeout} // 10,
             '--cacert', "$d/ca.crt");

    if ($o{cert}) {
        push @a, '--cert', "$d/$o{cert}.crt", '--key', "$d/$o{cert}.key";
    }

    push @a, '-H', "X-Real-IP: $o{ip}" if $o{ip};
    push @a, '-H', $_ for @{ $o{headers} || [] };
    push @a, '-u', $o{user} if defined $o{user};
    push @a, '-X', $o{method} if $o{method};
    push @a, '--http2' if $o{http2};

    push @a, "$scheme://127.0.0.1:$port$path";

    return @a;
}

sub get {
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

# Assertions ---------------------------------------------------------------

sub denied {
    my ($self, $res, $status, $reason, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    is($res->{status}, $status, "$name: status $status");
    is($res->{body}, qq({"error":"$reason"}), "$name: reason $reason");
}

sub allowed {
    my ($self, $res, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    is($res->{status}, 200, "$name: allowed")
        or diag("body: $res->{body}");
}

# Every test ends here: nothing alarming in the error log.
sub check_log {
    my ($self) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my $log = $self->error_log;
    my @bad = grep { /\[(alert|crit|emerg)\]|exited on signal/ }
              split /\n/, $log;

    ok(!@bad, 'no alerts, critical errors or crashed workers in the log')
        or diag(join "\n", @bad);
}

# Another nginx on the same folder, certificates and Redis: its own
# port, configuration, pid and error log.
sub instance {
    my ($self, $name) = @_;

    return bless {
        %$self,
        name          => "-$name",
        port          => free_port(),
        backend_port  => free_port(),
        nginx_running => 0,
        instance      => 1,
    }, ref $self;
}

sub DESTROY {
    my ($self) = @_;
    $self->stop_nginx;
    $self->stop_redis unless $self->{instance};
}

1;
