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

DEB_PACKAGES  = nginx nginx-dev libhiredis-dev libmaxminddb-dev mmdb-bin \
                libssl-dev libcrypt-dev redis-server openssl curl \
                libredis-perl libio-socket-ssl-perl \
                libmaxmind-db-writer-perl perl redis-tools apache2-utils \
                libcmocka-dev

.PHONY: all deps module unit fuzz test demo demo-stop bench clean geoip-db

# The benchmark's peers: OpenResty's Lua module with its Redis client.
BENCH_PACKAGES = libnginx-mod-http-lua lua-nginx-redis apache2-utils \
                 linux-perf curl valgrind strace

# The demo's country database: CC0, from the npm registry.
GEOIP_PKG     = @ip-location-db/geo-whois-asn-country-mmdb
GEOIP_DB      = $(BUILD)/geoip/node_modules/$(GEOIP_PKG)/geo-whois-asn-country.mmdb

all: module

module: $(MODULE)

deps:
	@sh tools/deps.sh $(DEB_PACKAGES)

$(NGX_BUILD)/Makefile: config
	rm -rf $(NGX_BUILD)
	mkdir -p $(BUILD)
	cp -r $(NGX_SRC) $(NGX_BUILD)
	cd $(NGX_BUILD) && . ./conf_flags \
	    && ./configure "$${NGX_CONF_FLAGS[@]}" \
	                   --add-dynamic-module=$(CURDIR) > configure.log 2>&1 \
	    || { tail -20 $(NGX_BUILD)/configure.log; exit 1; }

$(MODULE): $(NGX_BUILD)/Makefile $(SOURCES)
	$(MAKE) -C $(NGX_BUILD) -f objs/Makefile modules
	cp $(NGX_BUILD)/objs/ngx_http_ir_access_module.so $(MODULE).tmp
	mv $(MODULE).tmp $(MODULE)

# The pure code's unit tests, with nginx's own core functions beneath them.
unit: $(NGX_BUILD)/Makefile
	bash tools/unit.sh $(NGX_BUILD) $(BUILD)/unit

test: deps module unit
	IR_MODULE=$(MODULE) prove -j2 t/

# The pure code under libFuzzer, ASan and UBSan, run by hand:
# make fuzz FUZZ_SECONDS=600.  New inputs that widen coverage are kept in
# build/fuzz/corpus; a crash leaves its input in build/fuzz.
FUZZ_PACKAGES = clang libclang-rt-14-dev
FUZZ_SECONDS ?= 60

fuzz: deps $(NGX_BUILD)/Makefile
	@sh tools/deps.sh $(FUZZ_PACKAGES)
	bash tools/unit.sh $(NGX_BUILD) $(BUILD)/fuzz fuzz
	mkdir -p $(BUILD)/fuzz/corpus
	cd $(BUILD)/fuzz && ./ngx_http_ir_fuzz -max_total_time=$(FUZZ_SECONDS) \
	    -dict=$(CURDIR)/t/fuzz/record.dict corpus $(CURDIR)/t/fuzz/seeds

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

clean:
	rm -rf $(BUILD)
