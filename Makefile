# ir-access: build, test and demo entry points.
SHELL        := /bin/bash
#
# The module is built out of tree against the nginx that Debian installs,
# through the sources that Debian's nginx-dev ships, with nginx's own
# compiler flags (including -Werror) and --with-compat.

NGX_SRC      ?= /usr/share/nginx/src
BUILD        ?= $(CURDIR)/build
NGX_BUILD     = $(BUILD)/nginx
MODULE        = $(BUILD)/ngx_http_ir_access_module.so
SOURCES       = config ngx_http_ir_access_module.c $(wildcard src/*.c src/*.h)

# The administrators' tool: cli/ with the module's pure code (tools/cli.sh)
TOOL          = $(BUILD)/ir-access
TOOL_PURE     = schema record addr decision store zone notice trail
TOOL_SOURCES  = tools/cli.sh $(wildcard cli/*.c cli/*.h) \
                $(foreach f,$(TOOL_PURE),src/ngx_http_ir_$(f).c \
                                         src/ngx_http_ir_$(f).h)

DEB_PACKAGES  = nginx nginx-dev libhiredis-dev libmaxminddb-dev mmdb-bin \
                libssl-dev libcrypt-dev redis-server openssl curl \
                libredis-perl libio-socket-ssl-perl \
                libmaxmind-db-writer-perl perl redis-tools apache2-utils \
                libcmocka-dev make gcc libc6-dev procps iproute2 \
                dpkg-dev zlib1g-dev

.PHONY: all deps module tool unit fuzz test test-sanitize test-debian13 \
        nginx-tests demo demo-stop bench clean geoip-db
.PHONY: deb test-deb mutate

# The benchmark's peers: OpenResty's Lua module with its Redis client.
BENCH_PACKAGES = libnginx-mod-http-lua lua-nginx-redis apache2-utils \
                 linux-perf curl valgrind strace

# The demo's country database: CC0, from the npm registry.
GEOIP_PKG     = @ip-location-db/geo-whois-asn-country-mmdb
GEOIP_DB      = $(BUILD)/geoip/node_modules/$(GEOIP_PKG)/geo-whois-asn-country.mmdb

all: module tool

module: $(MODULE)

tool: $(TOOL)

deps:
	@sh tools/deps.sh $(DEB_PACKAGES)

$(NGX_BUILD)/objs/Makefile: config
	rm -rf $(NGX_BUILD)
	mkdir -p $(BUILD)
	cp -r $(NGX_SRC) $(NGX_BUILD)
	cd $(NGX_BUILD) && . ./conf_flags \
	    && ./configure "$${NGX_CONF_FLAGS[@]}" \
	                   --add-dynamic-module=$(CURDIR) > configure.log 2>&1 \
	    || { tail -20 $(NGX_BUILD)/configure.log; exit 1; }

$(MODULE): $(NGX_BUILD)/objs/Makefile $(SOURCES)
	$(MAKE) -C $(NGX_BUILD) -f objs/Makefile modules
	cp $(NGX_BUILD)/objs/ngx_http_ir_access_module.so $(MODULE).tmp
	mv $(MODULE).tmp $(MODULE)

# ir-access, built with nginx's flags against nginx's core code from
# Debian's source of the installed nginx (tools/nginx-source.sh, as the
# unit tests), or from NGX_CORE_SRC=<an nginx source tree>.
$(TOOL): $(NGX_BUILD)/objs/Makefile $(TOOL_SOURCES)
	NGX_CORE_SRC=$(NGX_CORE_SRC) bash tools/cli.sh $(NGX_BUILD) $(BUILD)/cli
	cp $(BUILD)/cli/ir-access $(TOOL).tmp
	mv $(TOOL).tmp $(TOOL)

# The pure code's unit tests, with nginx's own core functions beneath them.
unit: $(NGX_BUILD)/objs/Makefile
	bash tools/unit.sh $(NGX_BUILD) $(BUILD)/unit

test: deps module tool unit
	IR_MODULE=$(MODULE) IR_TOOL=$(TOOL) prove -j2 t/

# Mutation testing, by hand or in CI, never from "make test": each mutant
# of t/mutants planted alone into a copy of the sources under
# build/mutate, the module built from it, the tests it names run against
# it (MUTATE_FULL=1: the whole suite); the checkout is never written to.
# MUTANTS="glob ..." picks some, MUTATE_DRY=1 shows where they go.
mutate: deps
	BUILD=$(BUILD) perl tools/mutate.pl

# The same "make test" in a Debian 13 root made with mmdebstrap from the
# machine's configured mirror and kept under build/ (tools/debian13.sh).
DEBIAN13_ROOT ?= $(BUILD)/debian13-root

test-debian13:
	@sh tools/deps.sh mmdebstrap debian-archive-keyring
	bash tools/debian13.sh $(DEBIAN13_ROOT) test

# nginx's own test suite, plain and with the module loaded, then on in dry
# run everywhere: make nginx-tests NGINX_TESTS=nginx-tests-7f1e88e1.tar.gz
# (a tarball of github:nginx/nginx-tests).  The suite loads every dynamic
# module that "nginx -V" names, which Debian ships apart; "ip" brings up
# the loopback of the private network namespace it runs in.
NGINX_TESTS_PACKAGES = libnginx-mod-http-geoip libnginx-mod-http-image-filter \
                       libnginx-mod-http-perl libnginx-mod-http-xslt-filter \
                       libnginx-mod-mail libnginx-mod-stream \
                       libnginx-mod-stream-geoip iproute2

nginx-tests: deps module
	@test -n "$(NGINX_TESTS)" \
	    || { echo "usage: make nginx-tests NGINX_TESTS=SUITE.tar.gz"; exit 2; }
	@sh tools/deps.sh $(NGINX_TESTS_PACKAGES)
	bash tools/nginx-tests.sh $(NGINX_TESTS) $(MODULE) $(BUILD)/nginx-tests

# The suite again with nginx and the module both built with AddressSanitizer
# and UBSan from Debian's source of the installed nginx (tools/sanitize.sh,
# kept under build/sanitize).  The harness gives each test's nginx its own
# report files and fails the test whose logs hold a report about the module
# or a worker that exited with an error.  It runs at debug level, as "make
# test" does, and at info level, where nginx's own debug lines do not hide
# the module's UBSan reports (t/lib/IrTest.pm says how).
# detect_odr_violation=0: nginx's dynamic module build defines
# ngx_module_names in the binary and in the module.
SAN_OBJS      = $(BUILD)/sanitize/nginx/objs
SAN_ASAN      = detect_odr_violation=0:detect_leaks=1
SAN_UBSAN     = print_stacktrace=1:halt_on_error=0
SAN_LEVELS   ?= debug info

test-sanitize: deps unit
	bash tools/sanitize.sh $(BUILD)
	@for level in $(SAN_LEVELS); do \
	    echo "test-sanitize: nginx logging at $$level"; \
	    IR_LOG_LEVEL=$$level \
	    IR_NGINX=$(SAN_OBJS)/nginx \
	    IR_MODULE=$(SAN_OBJS)/ngx_http_ir_access_module.so \
	    ASAN_OPTIONS=$(SAN_ASAN) UBSAN_OPTIONS=$(SAN_UBSAN) \
	        prove -j2 t/ || exit 1; \
	done

# The pure code under libFuzzer, ASan and UBSan: a target for each parser
# of what comes from outside (t/fuzz/ngx_http_ir_fuzz_<target>.c), each
# run for FUZZ_SECONDS from its seeds (t/fuzz/<target>/) and dictionary
# (t/fuzz/<target>.dict), FUZZ_JOBS at a time (tools/fuzz.sh): make fuzz
# FUZZ_SECONDS=600, or one target with FUZZ_TARGETS=lookup.  New inputs
# that widen coverage are kept in build/fuzz/corpus/<target>; a finding
# fails the run and leaves its input in build/fuzz.
FUZZ_PACKAGES = clang libclang-rt-14-dev
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 2
FUZZ_SEED    ?=
FUZZ_TARGETS ?= $(patsubst t/fuzz/ngx_http_ir_fuzz_%.c,%, \
                    $(wildcard t/fuzz/ngx_http_ir_fuzz_*.c))

fuzz: deps $(NGX_BUILD)/objs/Makefile
	@sh tools/deps.sh $(FUZZ_PACKAGES)
	bash tools/unit.sh $(NGX_BUILD) $(BUILD)/fuzz fuzz
	@if [ -f $(BUILD)/fuzz/unavailable ]; then \
	    cat $(BUILD)/fuzz/unavailable; exit 1; fi
	FUZZ_SEED=$(FUZZ_SEED) \
	    bash tools/fuzz.sh $(BUILD)/fuzz $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_TARGETS)

# The Debian package, built as Debian builds its libnginx-mod-* packages
# (debian/, "dh $@ --with nginx") from a copy of the tree, into
# build/deb/libnginx-mod-http-ir-access_<version>_<arch>.deb; the version
# is the module's (src/ngx_http_ir_version.h).  lintian errors fail it.
DEB_BUILD_PACKAGES = build-essential debhelper dpkg-dev fakeroot lintian

deb: deps
	@sh tools/deps.sh $(DEB_BUILD_PACKAGES)
	bash tools/deb.sh $(BUILD)/deb

# The package installed into the system's nginx, tried and removed again
# (t/package.t; "make test" runs it too when a package newer than the
# sources is there).
test-deb: deb
	IR_DEB_DIR=$(BUILD)/deb prove t/package.t

geoip-db: $(GEOIP_DB)

$(GEOIP_DB):
	@command -v npm > /dev/null || sh tools/deps.sh npm
	mkdir -p $(BUILD)/geoip
	npm install --prefix $(BUILD)/geoip --no-audit --no-fund --silent \
	    $(GEOIP_PKG)

demo: deps module geoip-db
	bash demo/run.sh start

demo-stop:
	bash demo/run.sh stop

bench: deps module
	@sh tools/deps.sh $(BENCH_PACKAGES)
	bash bench/run.sh

# --one-file-system: never into what a killed test-debian13 left mounted
clean:
	rm -rf --one-file-system $(BUILD)
