#!/usr/bin/perl

# The harness's own end-of-test check, on logs as nginx and the sanitizers
# write them: a worker that exited with an error and the sanitizers'
# reports about the module fail a test ("make test-sanitize" relies on
# it); nginx's own reports and a clean exit do not.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Temp qw(tempdir);
use Test::More;
use IrTest;

# as "make test-sanitize" runs the suite
$ENV{UBSAN_OPTIONS} //= '';

my $dir = tempdir('ir-harness-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$dir/logs";
mkdir "$dir/sanitizer";

my $t = bless { dir => $dir, name => '',
                module => "$dir/ngx_http_ir_access_module.so" }, 'IrTest';

sub write_file {
    my ($name, $text) = @_;
    open my $f, '>', "$dir/$name" or die "$name: $!";
    print $f $text;
    close $f;
}

my $so = '/build/sanitize/nginx/objs/ngx_http_ir_access_module.so';

write_file('logs/error.log', <<"EOF");
2026/11/30 18:06:41 [notice] 100#100: worker process 101 exited with code 0
2026/11/30 18:06:42 [notice] 100#100: worker process 102 exited with code 1
src/core/ngx_string.c:84:5: runtime error: null pointer passed as argument 2, which is declared to never be null
    #0 0x5624bac6eaae in ngx_pstrdup src/core/ngx_string.c:84
    #1 0x5624bacbd082 in ngx_init_cycle src/core/ngx_cycle.c:118
    #2 0x5624bac46c54 in main src/core/nginx.c:292
2026/11/30 18:06:43 [debug] 102#102: *1 http args: ""
/src/ngx_http_ir_audit.c:226:9: runtime error: null pointer passed as argument 2, which is declared to never be null
    #0 0x7f8a337b2982  ($so+0xb7982)
    #1 0x55d213e28fc9 in ngx_http_log_request src/http/ngx_http_request.c:3802
src/core/ngx_string.c:586:19: runtime error: null pointer passed as argument 2, which is declared to never be null
    #0 0x55e741e0e349 in ngx_sprintf_str src/core/ngx_string.c:586
    #1 0x55e741e10147 in ngx_vslprintf src/core/ngx_string.c:255
    #2 0x55e741dec98a in ngx_log_error_core src/core/ngx_log.c:135
    #3 0x7f8a337c77df  ($so+0xcb7df)
    #4 0x55d213d42036 in ngx_event_process_posted src/event/ngx_event_posted.c:34
src/http/modules/ngx_http_proxy_module.c:1424:23: runtime error: null pointer passed as argument 2, which is declared to never be null
    #0 0x55d6f52b5b3f in ngx_http_proxy_create_request src/http/modules/ngx_http_proxy_module.c:1424
    #1 0x55d6f50fdd44 in ngx_http_upstream_init_request src/http/ngx_http_upstream.c:631
    #2 0x55d6f5023a2a in ngx_http_core_content_phase src/http/ngx_http_core_module.c:1306
    #3 0x55d6f4ffaa88 in ngx_http_core_run_phases src/http/ngx_http_core_module.c:922
    #4 0x7f15c57cf59e  ($so+0xf559e)
    #5 0x55d6f4f4a036 in ngx_event_process_posted src/event/ngx_event_posted.c:34
EOF

write_file('sanitizer/report.102', <<'EOF');

=================================================================
==102==ERROR: LeakSanitizer: detected memory leaks

Indirect leak of 778 byte(s) in 1 object(s) allocated from:
    #0 0x7fb2b32b89cf in __interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69
    #1 0x56070232c024 in ngx_alloc src/os/unix/ngx_alloc.c:22
    #2 0x7fb2ad5ee1a2  (<unknown module>)
    #3 0x5607023f1fc9 in ngx_http_log_request src/http/ngx_http_request.c:3802

SUMMARY: AddressSanitizer: 778 byte(s) leaked in 1 allocation(s).
EOF

write_file('sanitizer/report.103', <<'EOF');
==103==ERROR: LeakSanitizer: detected memory leaks

Direct leak of 1024 byte(s) in 1 object(s) allocated from:
    #0 0x7fa30eab7ffd in __interceptor_posix_memalign ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:145
    #1 0x555ee6d8e209 in ngx_memalign src/os/unix/ngx_alloc.c:57
    #2 0x555ee6c8f137 in ngx_create_pool src/core/ngx_palloc.c:23
    #3 0x555ee6c84b17 in main src/core/nginx.c:253

SUMMARY: AddressSanitizer: 1024 byte(s) leaked in 1 allocation(s).
EOF

write_file('sanitizer/report.104', <<'EOF');
==104==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000011 at pc 0x55c181d48f54 bp 0x7ffc sp 0x7ffc
READ of size 1 at 0x602000000011 thread T0
    #0 0x55c181d48f54 in ngx_http_parse_request_line src/http/ngx_http_parse.c:120
SUMMARY: AddressSanitizer: heap-buffer-overflow src/http/ngx_http_parse.c:120 in ngx_http_parse_request_line
==104==ABORTING
EOF

my ($bad, $nginx) = $t->log_problems;
my $text = join "\n", @$bad;

like($text, qr/worker process 102 exited with code 1/,
     'a worker that exited with an error fails the test');
unlike($text, qr/exited with code 0/, 'one that exited cleanly does not');

like($text, qr/ngx_http_ir_audit\.c:226:9: runtime error/,
     'a UBSan report in the module fails the test');
like($text, qr/ngx_string\.c:586:19: runtime error/,
     'so does one in what nginx does for the module (a "%V" it logs)');
like($text, qr/Indirect leak of 778 byte/,
     'so does a leak of the module, unloaded by then');
like($text, qr/heap-buffer-overflow/,
     'and any AddressSanitizer error, wherever it is');

unlike($text, qr/ngx_pstrdup|Direct leak of 1024|ngx_http_proxy_module/,
       "nginx's own reports do not fail the test, even with the module"
       . ' deeper in the stack');
is(scalar @$nginx, 3, "they are counted as nginx's own")
    or diag(explain $nginx);

($bad, $nginx) = $t->log_problems;
is(scalar(grep { /leak|AddressSanitizer/ } @$bad), 0,
   'a report file fails one check, not every later one');

done_testing;
