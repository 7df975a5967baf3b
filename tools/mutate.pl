#!/usr/bin/perl

# make mutate: mutation testing of the security code.
#
# Each mutant in t/mutants is a one-line bug, planted alone into a copy of
# the module's sources (build/mutate/tree), never into the checkout: the
# module is built from that copy into build/mutate/build ("make module"
# with its own BUILD), the test files that the mutant names are run
# against it, and the copy is given its original text back.  A mutant is
# caught when a test fails (the report names the test and its first
# failing assertion), survived when they all pass.  The checkout is never
# written to, so an interrupted run (Ctrl-C, a kill, a crash) cannot
# leave it dirty; the copy is put right at the start of the next run.
#
# First the named tests run without any mutant (the baseline): a test
# that fails on its own would "catch" every mutant.  Its times give each
# test file its time limit under a mutant (a mutant may make a test
# hang): three times its own, at least two minutes.
#
# The environment:
#   MUTANTS="addr-* lockout-expiry"   only those (shell globs)
#   MUTATE_FULL=1        each mutant against the whole suite, its own
#                        tests first, until one fails (t/unit.t,
#                        t/package.t and t/tool_*.t are left out: they
#                        test builds that "make mutate" does not mutate)
#   MUTATE_SKIP="audit"  test files a full run leaves out (one that fails
#                        now and then would catch mutants it never saw)
#   MUTATE_BASELINE=0    no baseline run (time limits of MUTATE_TIMEOUT)
#   MUTATE_TIMEOUT=900   seconds a test file may take without a baseline
#   MUTATE_KEEP=1        keep the tests' folders
#   MUTATE_DRY=1         only show where each mutant goes (file:line)
#   BUILD                the build folder (build/mutate below it)
#
# Exit status: 0 when every mutant was caught, 1 when one survived, 2
# when the run could not say (a mutant's text not found, a mutant that
# does not build, a test that fails without a mutant).

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Copy qw(copy);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use POSIX qw(:sys_wait_h setsid strftime);
use Time::HiRes qw(time sleep);

$| = 1;

my $ROOT = abs_path(dirname(__FILE__) . '/..');
my $BUILD = abs_path($ENV{BUILD} || "$ROOT/build");
my $HOME = "$BUILD/mutate";
my $TREE = "$HOME/tree";
my $MBUILD = "$HOME/build";
my $LOGS = "$HOME/logs";
my $MODULE = "$MBUILD/ngx_http_ir_access_module.so";
my $LIST = $ENV{MUTANTS_FILE} || "$ROOT/t/mutants";

my $FULL = $ENV{MUTATE_FULL} ? 1 : 0;
my $BASELINE = $ENV{MUTATE_BASELINE} // 1;
my $TIMEOUT = $ENV{MUTATE_TIMEOUT} || 900;

# what "make module" needs of the checkout
my @SOURCES = ('Makefile', 'config', 'ngx_http_ir_access_module.c',
               map { s{^\Q$ROOT\E/}{}r } glob("$ROOT/src/*.[ch]"));

# left out of a full run: they test builds that are not mutated here
my $NOT_FULL = qr{^t/(unit|package|tool_\w+)\.t$};


# the list --------------------------------------------------------------

sub read_mutants {
    my ($file) = @_;
    my (@mutants, %seen, $m);

    open my $f, '<', $file or die "mutate: $file: $!\n";

    my $end = sub {
        return unless $m;

        for my $k (qw(mutant file from to tests)) {
            die "mutate: $file:$m->{line}: no \"$k:\"\n"
                unless defined $m->{$k};
        }

        die "mutate: $file:$m->{line}: mutant \"$m->{mutant}\" twice\n"
            if $seen{ $m->{mutant} }++;

        $m->{tests} = [ map { m{/} ? $_ : "t/$_" }
                        map { /\.t$/ ? $_ : "$_.t" }
                        split /[\s,]+/, $m->{tests} ];

        for (@{ $m->{tests} }) {
            die "mutate: $file:$m->{line}: no test $_\n" unless -f "$ROOT/$_";
        }

        push @mutants, $m;
        undef $m;
    };

    while (my $line = <$f>) {
        chomp $line;

        if ($line =~ /^\s*$/) {
            $end->();
            next;
        }

        next if $line =~ /^\s*#/;

        my ($k, $v) = $line =~ /^(\w+):\s?(.*?)\s*$/
            or die "mutate: $file:$.: not \"field: value\": $line\n";

        die "mutate: $file:$.: unknown field \"$k\"\n"
            unless $k =~ /^(mutant|file|near|from|to|tests|why)$/;

        $m //= { line => $. };
        die "mutate: $file:$.: \"$k:\" twice\n" if defined $m->{$k};

        $v =~ s/^\s+//;
        $m->{$k} = $v;
    }

    $end->();
    close $f;

    return @mutants;
}


# the copy of the sources ---------------------------------------------------

sub slurp {
    my ($file) = @_;
    open my $f, '<:raw', $file or die "mutate: $file: $!\n";
    local $/;
    my $text = <$f>;
    close $f;
    return $text;
}

sub spew {
    my ($file, $text) = @_;
    open my $f, '>:raw', "$file.tmp" or die "mutate: $file.tmp: $!\n";
    print $f $text;
    close $f or die "mutate: $file.tmp: $!\n";
    rename "$file.tmp", $file or die "mutate: $file: $!\n";
}

# The sources as they are in the checkout now: what every mutant starts
# from, and what the copy is given back.
my %pristine;

sub sync_tree {
    make_path("$TREE/src");

    for my $s (@SOURCES) {
        $pristine{$s} = slurp("$ROOT/$s");

        # an unchanged file keeps its time, and its object is not rebuilt
        next if -f "$TREE/$s" && slurp("$TREE/$s") eq $pristine{$s};

        spew("$TREE/$s", $pristine{$s});
    }

    my %want = map { $_ => 1 } @SOURCES;

    for (glob("$TREE/src/*")) {
        unlink $_ unless $want{ s{^\Q$TREE\E/}{}r };
    }
}

my $planted;     # the file that holds a mutant now

sub restore {
    return unless $planted;
    spew("$TREE/$planted", $pristine{$planted});
    undef $planted;
}

# The text to replace: "from" exactly once in the file, or its first
# occurrence after "near", which is exactly once in the file.
sub plant {
    my ($m) = @_;
    my $text = $pristine{ $m->{file} }
        // return "$m->{file} is not among the module's sources";

    my $start = 0;

    if (defined $m->{near}) {
        my $n = () = $text =~ /\Q$m->{near}\E/g;
        return "\"near\" text found $n times in $m->{file}, not once"
            if $n != 1;
        $start = index($text, $m->{near}) + length $m->{near};
    }

    my $at = index($text, $m->{from}, $start);
    return "\"from\" text not found in $m->{file}" if $at < 0;

    unless (defined $m->{near}) {
        my $n = () = $text =~ /\Q$m->{from}\E/g;
        return "\"from\" text found $n times in $m->{file}: add \"near:\""
            if $n != 1;
    }

    substr($text, $at, length $m->{from}) = $m->{to};

    $m->{lineno} = 1 + (() = substr($text, 0, $at) =~ /\n/g);

    $planted = $m->{file};
    spew("$TREE/$m->{file}", $text);

    return undef;
}

sub build {
    my ($log) = @_;

    my $rc = system("make -s -C '$TREE' module BUILD='$MBUILD' "
                    . "> '$log' 2>&1");
    return $rc == 0;
}


# running a test ------------------------------------------------------------

my $RUN;          # the tests' TMPDIR, this run's alone
my $child;        # the process group of the test running now

# What a test left running when it was killed (its END blocks never ran):
# processes whose command line or folder is in this run's TMPDIR, and
# the workers of such an nginx.  Never anything else.
sub sweep {
    return unless $RUN;

    my (%kill, %parent);

    for my $proc (glob('/proc/[0-9]*')) {
        my ($pid) = $proc =~ /(\d+)$/;
        next if $pid == $$;

        my $cmd = eval { slurp("$proc/cmdline") } // next;
        my $cwd = readlink("$proc/cwd") // '';

        if (index($cmd, "$RUN/") >= 0 || index("$cwd/", "$RUN/") == 0) {
            $kill{$pid} = 1;
        }

        my $stat = eval { slurp("$proc/stat") } // next;
        $parent{$pid} = $1 if $stat =~ /^\d+ \(.*\) \S (\d+)/s;
    }

    for my $pid (keys %parent) {
        $kill{$pid} = 1 if $kill{ $parent{$pid} };
    }

    my @pids = keys %kill or return 0;

    kill 'KILL', @pids;
    return scalar @pids;
}

sub stop_child {
    return unless $child;

    kill 'TERM', -$child;

    for (1 .. 50) {
        last if waitpid($child, WNOHANG) != 0;
        sleep 0.1;
    }

    kill 'KILL', -$child;
    waitpid($child, 0);
    undef $child;

    sweep();
}

# One test file against the built module: (passed, seconds, why it
# failed), its output in $log.
sub run_test {
    my ($test, $limit, $log) = @_;

    my $start = time;
    my $offset = -s $log // 0;

    $child = fork // die "mutate: fork: $!\n";

    if ($child == 0) {
        setsid();
        chdir $ROOT or POSIX::_exit(127);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT;
        $| = 1;
        print "=== $test\n";

        $ENV{TMPDIR} = $RUN;
        $ENV{IR_MODULE} = $MODULE;
        $ENV{IR_KEEP} = 1 if $ENV{MUTATE_KEEP};

        exec 'prove', '-v', $test or POSIX::_exit(127);
    }

    my ($status, $timed_out);

    while (1) {
        my $pid = waitpid($child, WNOHANG);

        if ($pid == $child) {
            $status = $?;
            undef $child;
            last;
        }

        if (time - $start > $limit) {
            $timed_out = 1;
            stop_child();
            last;
        }

        sleep 0.2;
    }

    my $left = sweep();
    my $took = time - $start;

    return (0, $took, sprintf('timed out after %ds', $limit)) if $timed_out;
    return (1, $took, undef) if $status == 0;

    my $out = substr(eval { slurp($log) } // '', $offset);
    my $why;

    if ($out =~ /^(not ok \d+.*)$/m) {
        $why = $1;

    } elsif ($out =~ /^(.*(?:\bdied\b|Dubious|at \S+ line \d+).*)$/m) {
        $why = $1;

    } else {
        $why = 'exit status ' . ($status >> 8);
    }

    $why .= " ($left processes left behind, killed)" if $left;

    return (0, $took, $why);
}


# cleaning up, whatever happens ---------------------------------------------

sub cleanup {
    stop_child();
    sweep();
    restore();

    if ($RUN && -d $RUN && !$ENV{MUTATE_KEEP}) {
        remove_tree($RUN);
    }
}

my @report;

for my $sig (qw(INT TERM HUP)) {
    $SIG{$sig} = sub {
        $SIG{$sig} = 'DEFAULT';
        print "\nmutate: interrupted (SIG$sig); the copy is restored, "
              . "the checkout was never changed\n";
        cleanup();
        print map { "$_\n" } @report if @report;
        exit 130;
    };
}

END {
    local $?;
    cleanup();
}


# the run ---------------------------------------------------------------------

my @mutants = read_mutants($LIST);

if (my $only = $ENV{MUTANTS}) {
    my @pat = map { my $p = quotemeta; $p =~ s/\\\*/.*/g; $p =~ s/\\\?/./g;
                    qr/^$p$/ } split /[\s,]+/, $only;
    @mutants = grep { my $n = $_->{mutant}; grep { $n =~ $_ } @pat }
               @mutants;
    die "mutate: no mutant matches MUTANTS=\"$only\"\n" unless @mutants;
}

# MUTATE_SKIP="audit.t reload.t": test files left out of a full run
my %skip = map { ("t/$_" =~ s{^t/t/}{t/}r =~ s{(?<!\.t)$}{.t}r) => 1 }
           split /[\s,]+/, $ENV{MUTATE_SKIP} // '';

my @suite = grep { !/$NOT_FULL/ && !$skip{$_} }
            map { s{^\Q$ROOT\E/}{}r } sort glob("$ROOT/t/*.t");

make_path($LOGS, $MBUILD);
unlink glob("$LOGS/*");

make_path($ENV{TMPDIR} || '/tmp');
$RUN = tempdir('ir-mutate-XXXXXX', TMPDIR => 1, CLEANUP => 0);
chmod 0755, $RUN;     # nginx's workers run as nobody

my $started = time;

printf "mutate: %d mutants from %s, against %s\n", scalar @mutants,
       $LIST =~ s{^\Q$ROOT\E/}{}r,
       $FULL ? 'the whole suite (MUTATE_FULL=1)' : 'the tests each names';

sync_tree();

# MUTATE_DRY=1: where each mutant goes, and nothing built or run
if ($ENV{MUTATE_DRY}) {
    my $bad = 0;

    for my $m (@mutants) {
        if (my $why = plant($m)) {
            printf "%-26s STALE: %s\n", $m->{mutant}, $why;
            $bad++;
            next;
        }

        my $line = (split /\n/, slurp("$TREE/$m->{file}"))[$m->{lineno} - 1];
        $line =~ s/^\s+//;
        printf "%-26s %s:%d: %s\n", $m->{mutant}, $m->{file}, $m->{lineno},
               $line;
        restore();
    }

    exit($bad ? 2 : 0);
}

print "mutate: building the module from the unchanged copy ...\n";
unless (build("$LOGS/baseline.build")) {
    print "mutate: the unchanged sources do not build: "
          . "$LOGS/baseline.build\n";
    exit 2;
}

my %limit;
my %named = map { $_ => 1 } map { @{ $_->{tests} } } @mutants;
my @baseline = $FULL ? (sort keys %named,
                        grep { !$named{$_} } @suite)
                     : sort keys %named;

if ($BASELINE) {
    print "mutate: the baseline, without any mutant:\n";

    for my $test (@baseline) {
        my $log = "$LOGS/baseline." . ($test =~ s{.*/}{}r) . '.log';
        my ($ok, $took, $why) = run_test($test, $TIMEOUT, $log);

        printf "  %-28s %4ds  %s\n", $test, $took, $ok ? 'ok' : "FAILED: $why";

        unless ($ok) {
            print "mutate: a test fails without a mutant, so that it would "
                  . "catch every one: fix it first ($log)\n";
            exit 2;
        }

        $limit{$test} = $took * 3 < 120 ? 120 : int($took * 3);
    }
}

my (@caught, @survived, @broken);
my $i = 0;

for my $m (@mutants) {
    $i++;
    my $tag = sprintf '[%2d/%d] %-26s', $i, scalar @mutants, $m->{mutant};

    if (my $why = plant($m)) {
        push @report, "$tag STALE     $why";
        print "$report[-1]\n";
        push @broken, $m;
        next;
    }

    my $where = "$m->{file}:$m->{lineno}";

    unless (build("$LOGS/$m->{mutant}.build")) {
        restore();
        push @report, "$tag BROKEN    $where does not build "
                      . "($LOGS/$m->{mutant}.build)";
        print "$report[-1]\n";
        push @broken, $m;
        next;
    }

    my %own = map { $_ => 1 } @{ $m->{tests} };
    my @tests = (@{ $m->{tests} },
                 $FULL ? grep { !$own{$_} } @suite : ());

    my ($verdict, @passed);

    for my $test (@tests) {
        my $log = "$LOGS/$m->{mutant}.log";
        my ($ok, $took, $why) = run_test($test, $limit{$test} // $TIMEOUT,
                                         $log);

        if ($ok) {
            push @passed, $test;
            next;
        }

        $verdict = "caught    $where by $test: $why";
        rename $log, "$LOGS/$m->{mutant}.caught.log";
        last;
    }

    restore();

    if ($verdict) {
        push @caught, $m;
        push @report, "$tag $verdict";

    } else {
        push @survived, $m;
        push @report, "$tag SURVIVED  $where; passed: @passed";
    }

    print "$report[-1]\n";
}

my $judged = @caught + @survived;
my $score = $judged ? 100 * @caught / $judged : 0;

push @report, sprintf('mutate: %d of %d mutants caught (%.1f%%), %s; '
                      . '%d survived%s%s; %s, %dm%02ds',
                      scalar @caught, $judged, $score,
                      $FULL ? 'whole suite' : 'named tests',
                      scalar @survived,
                      @survived ? ' (' . join(' ', map { $_->{mutant} }
                                                   @survived) . ')' : '',
                      @broken ? sprintf(', %d stale or broken (%s)',
                                        scalar @broken,
                                        join(' ', map { $_->{mutant} }
                                                  @broken)) : '',
                      strftime('%Y-%m-%d', localtime),
                      (time - $started) / 60, (time - $started) % 60);

print "$report[-1]\n";

spew("$HOME/report", join('', map { "$_\n" } @report));
print "mutate: the report is in $HOME/report, the tests' output in $LOGS\n";

exit(@broken ? 2 : @survived ? 1 : 0);
