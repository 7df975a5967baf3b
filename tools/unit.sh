#!/bin/bash
# Builds the tests of the module's pure code (the decision, the allowlist
# and the packed record), linked with nginx's own string, address, pool and
# array code:
#
#   tools/unit.sh NGX_BUILD OUT_DIR          the cmocka unit tests, t/unit/
#   tools/unit.sh NGX_BUILD OUT_DIR fuzz     the libFuzzer target, t/fuzz/,
#                                            with ASan and UBSan (clang)
#
# nginx-dev ships headers only, so those few core files come from Debian's
# source of the same nginx release, checked against its SHA-256, and kept
# beside OUT_DIR.  Without that source (no network) OUT_DIR/unavailable
# says why, and t/00-unit.t reports the unit tests as skipped, never as
# passed.

set -eu

NGX_BUILD=$1
OUT=$2
MODE=${3:-unit}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

VERSION=1.22.1
URL=http://deb.debian.org/debian/pool/main/n/nginx/nginx_$VERSION.orig.tar.gz
SHA256=9ebb333a9e82b952acd3e2b4aeb1d4ff6406f72491bab6cd9fe69f0dea737f31
CORE="src/core/ngx_string.c src/core/ngx_inet.c src/core/ngx_palloc.c
      src/core/ngx_array.c src/os/unix/ngx_alloc.c"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SRC=$(dirname "$OUT")/nginx-$VERSION-core
rm -f "$OUT/unavailable"

if [ ! -d "$SRC" ]; then
    tarball=$SRC.tar.gz.part

    if ! curl -fsS --max-time 60 -o "$tarball" "$URL"; then
        rm -f "$tarball"
        echo "could not fetch $URL" | tee "$OUT/unavailable" >&2
        exit 0
    fi

    if ! echo "$SHA256  $tarball" | sha256sum -c --quiet; then
        rm -f "$tarball"
        echo "$URL does not match its SHA-256" | tee "$OUT/unavailable" >&2
        exit 0
    fi

    mkdir -p "$SRC.part"
    tar xzf "$tarball" -C "$SRC.part" --strip-components=1 \
        $(for f in $CORE; do echo nginx-$VERSION/$f; done)
    mv "$SRC.part" "$SRC"
    rm -f "$tarball"
fi

# nginx's own flags and include paths, as configured for the module
NGX_CFLAGS=$(sed -n 's/^CFLAGS = //p' "$NGX_BUILD/objs/Makefile")
INCS="-I $NGX_BUILD/src/core -I $NGX_BUILD/src/event
      -I $NGX_BUILD/src/event/modules -I $NGX_BUILD/src/os/unix
      -I $NGX_BUILD/objs -I $ROOT/src"

if [ "$MODE" = fuzz ]; then
    CC=clang
    SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
    CFLAGS="-g -O1 -W -Wall -Wno-unused-parameter -Werror $SAN"
    OBJ_CFLAGS="$CFLAGS -fsanitize=fuzzer-no-link"
    TEST=$ROOT/t/fuzz/ngx_http_ir_fuzz.c
    LIBS="-fsanitize=fuzzer $SAN"
    BIN=ngx_http_ir_fuzz
else
    CC=cc
    CFLAGS=$NGX_CFLAGS
    OBJ_CFLAGS=$CFLAGS
    TEST=$ROOT/t/unit/ngx_http_ir_unit.c
    LIBS=-lcmocka
    BIN=ngx_http_ir_unit
fi

cd "$OUT"

objs=
for f in $CORE; do
    o=core-$(basename "$f" .c).o
    [ "$o" -nt "$SRC/$f" ] \
        || $CC -c ${OBJ_CFLAGS/-Werror/} $INCS "$SRC/$f" -o "$o"
    objs="$objs $o"
done

# the module's pure code, with nginx's -Werror where nginx's flags apply
for f in "$ROOT"/src/ngx_http_ir_decision.c "$ROOT"/src/ngx_http_ir_addr.c \
         "$ROOT"/src/ngx_http_ir_record.c "$TEST"
do
    o=$(basename "$f" .c).o
    $CC -c $OBJ_CFLAGS $INCS "$f" -o "$o"
    objs="$objs $o"
done

$CC -o $BIN.part $objs $LIBS
mv $BIN.part $BIN
