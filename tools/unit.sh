#!/bin/bash
# Builds the unit tests (t/unit/*.c, cmocka) of the module's pure code:
# the decision, the allowlist and the packed record, linked with nginx's own
# string, address, pool and array code.  nginx-dev ships headers only, so
# those few core files come from Debian's source of the same nginx release,
# checked against its SHA-256.  Without that source (no network) the unit
# tests are reported as skipped by t/00-unit.t, never as passed.
#
#   tools/unit.sh NGX_BUILD OUT_DIR

set -eu

NGX_BUILD=$1
OUT=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)

VERSION=1.22.1
URL=http://deb.debian.org/debian/pool/main/n/nginx/nginx_$VERSION.orig.tar.gz
SHA256=9ebb333a9e82b952acd3e2b4aeb1d4ff6406f72491bab6cd9fe69f0dea737f31
CORE="src/core/ngx_string.c src/core/ngx_inet.c src/core/ngx_palloc.c
      src/core/ngx_array.c src/os/unix/ngx_alloc.c"

mkdir -p "$OUT"
cd "$OUT"

if [ ! -d nginx-$VERSION ]; then
    rm -f nginx.tar.gz.part "$OUT/unavailable"

    if ! curl -fsS --max-time 60 -o nginx.tar.gz.part "$URL"; then
        echo "unit: could not fetch $URL" | tee unavailable >&2
        exit 0
    fi

    if ! echo "$SHA256  nginx.tar.gz.part" | sha256sum -c --quiet; then
        echo "unit: $URL does not match its SHA-256" | tee unavailable >&2
        rm -f nginx.tar.gz.part
        exit 0
    fi

    mkdir -p nginx-$VERSION.part
    tar xzf nginx.tar.gz.part -C nginx-$VERSION.part \
        --strip-components=1 $(for f in $CORE; do echo nginx-$VERSION/$f; done)
    mv nginx-$VERSION.part nginx-$VERSION
    rm -f nginx.tar.gz.part unavailable
fi

# nginx's own flags and include paths, as configured for the module
CFLAGS=$(sed -n 's/^CFLAGS = //p' "$NGX_BUILD/objs/Makefile")
INCS="-I $NGX_BUILD/src/core -I $NGX_BUILD/src/event
      -I $NGX_BUILD/src/event/modules -I $NGX_BUILD/src/os/unix
      -I $NGX_BUILD/objs -I $ROOT/src"

objs=
for f in $CORE; do
    o=core-$(basename "$f" .c).o
    [ "$o" -nt nginx-$VERSION/$f ] \
        || cc -c ${CFLAGS/-Werror/} $INCS nginx-$VERSION/$f -o "$o"
    objs="$objs $o"
done

# the module's pure code and its tests, with -Werror
for f in "$ROOT"/src/ngx_http_ir_decision.c "$ROOT"/src/ngx_http_ir_addr.c \
         "$ROOT"/src/ngx_http_ir_record.c "$ROOT"/t/unit/ngx_http_ir_unit.c
do
    o=$(basename "$f" .c).o
    cc -c $CFLAGS $INCS "$f" -o "$o"
    objs="$objs $o"
done

cc -o ngx_http_ir_unit.part $objs -lcmocka
mv ngx_http_ir_unit.part ngx_http_ir_unit
