package IrAudit;

# Audit entries as the gateway writes them (src/ngx_http_ir_trail.c): the
# fields in the gateway's order, each writer's entries chained by "chain",
# "seq" and "prev", for the tests of "ir-access audit".  Made here, so that
# a test can lay out days, gaps and events exactly; added to the stream
# with their ids, a few with XADD or many at once through redis-cli --pipe.

use strict;
use warnings;

use Cwd qw(abs_path);
use Digest::SHA qw(sha256_hex);
use File::Basename qw(dirname);
use POSIX qw(strftime);

use Exporter qw(import);
my $ROOT = abs_path(dirname(__FILE__) . '/../..');

our @EXPORT = qw(chain decision event digest xadd xadd_many iso day_of
                 archive_lines parse_line stream_entries run_tool);

# a writer, as a worker starting at $ms (milliseconds since 1970)
sub chain {
    my ($host, $pid, $ms) = @_;
    return { id => sprintf('%s/%d/%d.%03d', $host, $pid, int($ms / 1000),
                           $ms % 1000),
             seq => 0, prev => '0' x 64 };
}

sub iso {
    my ($ms) = @_;
    return strftime('%Y-%m-%dT%H:%M:%S', gmtime(int($ms / 1000)))
           . sprintf('.%03dZ', $ms % 1000);
}

sub day_of {
    my ($ms) = @_;
    return strftime('%Y-%m-%d', gmtime(int($ms / 1000)));
}

# SHA-256 over "<name length>:<name><value length>:<value>" of each field
sub digest {
    my @f = @{ $_[0] };
    my $text = '';
    while (my ($k, $v) = splice @f, 0, 2) {
        $text .= length($k) . ":$k" . length($v) . ":$v";
    }
    return sha256_hex($text);
}

sub link_entry {
    my ($c, @f) = @_;
    $c->{seq}++;
    push @f, chain => $c->{id}, seq => $c->{seq}, prev => $c->{prev};
    $c->{prev} = digest(\@f);
    return \@f;
}

# a decision's entry: decision($chain, $ms, user => 'alice', ...)
sub decision {
    my ($c, $ms, %o) = @_;
    my @f = (time => iso($ms), host => $o{host} // 'gw1',
             request_id => $o{request_id} // sprintf('%032x', $ms));
    for my $k (qw(mode server user org unit contract env ip country cert
                  method uri scope purpose case subject decision reason
                  status))
    {
        my %default = (mode => 'enforce', server => 'api.example',
                       method => 'GET', decision => 'allow', status => '200',
                       env => 'prod');
        push @f, $k => $o{$k} // $default{$k} // '';
    }
    return link_entry($c, @f);
}

# an event: event($chain, $ms, 'audit_dropped', seqs => '3-4', cause => ...)
sub event {
    my ($c, $ms, $name, @f) = @_;
    return link_entry($c, time => iso($ms), event => $name, host => 'gw1',
                      @f);
}

# entries [[$id, $fields], ...] with their ids, through the Redis client
sub xadd {
    my ($r, $stream, @e) = @_;
    $r->xadd($stream, $_->[0], @{ $_->[1] }) for @e;
}

# many at once: the commands written in Redis's protocol to redis-cli --pipe
sub xadd_many {
    my ($dir, $port, $stream, $entries) = @_;
    my $file = "$dir/pipe.resp";

    open my $h, '>:raw', $file or die "$file: $!";
    for my $e (@$entries) {
        my @args = ('XADD', $stream, $e->[0], @{ $e->[1] });
        print $h '*' . @args . "\r\n"
                 . join('', map { '$' . length($_) . "\r\n$_\r\n" } @args);
    }
    close $h;

    my $out = `redis-cli -p $port --pipe < $file 2>&1`;
    die "redis-cli --pipe: $out" unless $out =~ /errors: 0, replies: (\d+)/
                                        && $1 == @$entries;
    unlink $file;
}

# the lines of the archive's files, decompressed, in order of their days
sub archive_lines {
    my ($dir) = @_;
    my @lines;

    for my $f (sort glob("$dir/audit-*.jsonl*")) {
        next if $f =~ /\.part$/;
        my $text = $f =~ /\.gz$/ ? `gzip -dc $f` : do {
            open my $h, '<:raw', $f or die "$f: $!";
            local $/;
            <$h>;
        };
        push @lines, split /\n/, $text;
    }

    return @lines;
}

# an archive line's names and values, in order, as bytes: [name, value,
# ...]; the stream id is "_id"
sub parse_line {
    my ($line) = @_;
    my @f;
    my $s = qr/"((?:[^"\\]|\\.)*)"/;

    $line =~ s/^\{// or return;
    while ($line =~ s/^$s:(?:$s|(\d+))(,|\})//) {
        push @f, unescape($1), defined $2 ? unescape($2) : $3;
        last if $4 eq '}';
    }

    return $line eq '' ? \@f : undef;
}

sub unescape {
    my ($v) = @_;
    my %c = (n => "\n", t => "\t", r => "\r", b => "\b", f => "\f");

    $v =~ s{\\(?:u([0-9a-fA-F]{4})|(.))}{
        defined $1 ? (hex($1) >= 0xdc80 && hex($1) <= 0xdcff
                      ? chr(hex($1) - 0xdc00)
                      : do { my $c = chr(hex($1)); utf8::encode($c); $c })
                   : ($c{$2} // $2)
    }ge;

    return $v;
}

# the stream's entries as [id, [name, value, ...]], a page at a time
sub stream_entries {
    my ($r, $stream) = @_;
    my ($from, @e) = ('-');

    for (;;) {
        my $page = $r->xrange($stream, $from, '+', 'COUNT', 1000) || [];
        push @e, map { [$_->[0], $_->[1]] } @$page;
        last if @$page < 1000;
        my ($ms, $seq) = split /-/, $page->[-1][0];
        $from = $ms . '-' . ($seq + 1);
    }

    return @e;
}

# the tool with an environment of its own: (exit status, signal, stdout,
# stderr)
sub run_tool {
    my ($t, $env, @args) = @_;
    my $d = $t->dir;
    my $tool = $ENV{IR_TOOL} || "$ROOT/build/ir-access";

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        $ENV{$_} = $env->{$_} for keys %$env;
        open STDOUT, '>', "$d/tool.out" or POSIX::_exit(127);
        open STDERR, '>', "$d/tool.err" or POSIX::_exit(127);
        exec $tool, '--redis', $t->redis_addr, @args or POSIX::_exit(127);
    }

    waitpid $pid, 0;
    my ($status, $signal) = ($? >> 8, $? & 127);

    my @out;
    for my $f ("$d/tool.out", "$d/tool.err") {
        open my $h, '<', $f or die "$f: $!";
        local $/;
        push @out, <$h> // '';
        close $h;
    }

    return ($status, $signal, @out);
}

1;
