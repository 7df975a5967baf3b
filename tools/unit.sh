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
# source of the installed nginx (tools/nginx-source.sh), kept beside
# OUT_DIR.  Without that source (no network) OUT_DIR/unavailable says why,
# and t/00-unit.t reports the unit tests as skipped, never as passed.

set -eu

NGX_BUILD=$1
OUT=$2
MODE=${3:-unit}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

CORE="src/core/ngx_string.c src/core/ngx_inet.c src/core/ngx_palloc.c
      src/core/ngx_array.c src/os/unix/ngx_alloc.c src/core/ngx_crypt.c
      src/core/ngx_md5.c src/core/ngx_sha1.c src/os/unix/ngx_user.c"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT/unavailable"

if ! SRC=$(bash "$ROOT/tools/nginx-source.sh" "$(dirname "$OUT")" \
           2> "$OUT/why")
then
    sed 's/^nginx source: //' "$OUT/why" | tee "$OUT/unavailable" >&2
    rm -f "$OUT/why"
    exit 0
fi

cat "$OUT/why" >&2
rm -f "$OUT/why"

# core objects built from another release's source are built again
if [ "$(cat "$OUT/core-source" 2>/dev/null)" != "$SRC" ]; then
    rm -f "$OUT"/core-*.o
    echo "$SRC" > "$OUT/core-source"
fi

# nginx's own flags and include paths, as configured for the module
NGX_CFLAGS=$(sed -n 's/^CFLAGS = //p' "$NGX_BUILD/objs/Makefile")
INCS="-I $NGX_BUILD/src/core -I $NGX_BUILD/src/event
      -I $NGX_BUILD/src/event/modules -I $NGX_BUILD/src/os/unix
      -I $NGX_BUILD/objs -I $NGX_BUILD/src/http
      -I $NGX_BUILD/src/http/modules -I $NGX_BUILD/src/http/v2 -I $ROOT/src"

# nginx 1.25+ built with HTTP/3 (Debian 13's) includes QUIC's headers
for dir in src/event/quic src/http/v3; do
    if [ -d "$NGX_BUILD/$dir" ]; then
        INCS="$INCS -I $NGX_BUILD/$dir"
    fi
done

if [ "$MODE" = fuzz ]; then
    CC=clang
    SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
    CFLAGS="-g -O1 -W -Wall -Wno-unused-parameter -Werror $SAN"
    OBJ_CFLAGS="$CFLAGS -fsanitize=fuzzer-no-link"
    TEST=$ROOT/t/fuzz/ngx_http_ir_fuzz.c
    LIBS="-fsanitize=fuzzer $SAN -lssl -lcrypto -lcrypt"
else
    CC=cc
    CFLAGS=$NGX_CFLAGS
    OBJ_CFLAGS=$CFLAGS
    TEST=$ROOT/t/unit/ngx_http_ir_unit.c
    LIBS="-lcmocka -lssl -lcrypto -lcrypt"
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
         "$ROOT"/src/ngx_http_ir_record.c "$ROOT"/src/ngx_http_ir_schema.c \
         "$ROOT"/src/ngx_http_ir_store.c "$ROOT"/src/ngx_http_ir_identity.c \
         "$ROOT"/src/ngx_http_ir_zone.c "$ROOT"/src/ngx_http_ir_notice.c \
         "$TEST"
do
    o=$(basename "$f" .c).o
    $CC -c $OBJ_CFLAGS $INCS "$f" -o "$o"
    objs="$objs $o"
done

if [ "$MODE" != fuzz ]; then
    $CC -o $BIN.part $objs $LIBS
    mv $BIN.part $BIN
    exit 0
fi

# one libFuzzer binary per target, t/fuzz/ngx_http_ir_fuzz_<target>.c
for f in "$ROOT"/t/fuzz/ngx_http_ir_fuzz_*.c; do
    t=$(basename "$f" .c)
    $CC -c $OBJ_CFLAGS $INCS "$f" -o "$t.o"
    $CC -o $t.part $objs $t.o $LIBS
    mv $t.part $t
done
