#!/usr/bin/perl

# The unit tests of the pure code (t/unit/, cmocka), which "make unit"
# builds: the decision step by step, the record's fields, pins, password
# hash formats, dates, lists, names, the allowlist, the key schema,
# escaping, the packed record, and the readers of Redis's replies.  Their
# own TAP is this test's.

use strict;
use warnings;

use FindBin;

my $dir = $ENV{IR_UNIT_DIR} || "$FindBin::Bin/../build/unit";

if (open my $f, '<', "$dir/unavailable") {
    chomp(my $why = <$f> // 'no nginx sources');
    print "1..0 # SKIP $why\n";
    exit 0;
}

unless (-x "$dir/ngx_http_ir_unit") {
    print "1..1\nnot ok 1 - the unit tests are built (run \"make unit\")\n";
    exit 1;
}

$ENV{CMOCKA_MESSAGE_OUTPUT} = 'TAP';
exec "$dir/ngx_http_ir_unit" or die "exec: $!";
