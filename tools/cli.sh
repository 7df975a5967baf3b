#!/bin/bash
# Builds the administrators' tool, ir-access, from cli/ and the module's
# pure code in src/ (the key schema, the records, the allowlist, the
# decision, the lookup script with its reply, the time zone, the
# maintenance's fields, and the audit trail's entries and their chain's
# digest), linked with nginx's own core code, as the unit tests are:
#
#   tools/cli.sh NGX_BUILD OUT_DIR       writes OUT_DIR/ir-access
#
# nginx-dev ships headers only, so nginx's core files come from Debian's
# source of the installed nginx, fetched by tools/nginx-source.sh beside
# OUT_DIR (the unit tests' source), or from NGX_CORE_SRC where that names
# an nginx source tree already there.  Unlike the unit tests, the tool
# cannot be skipped: without that source the build fails and says why.
#
# nginx's compiler flags and warnings (-Werror) apply; CPPFLAGS, CFLAGS
# and LDFLAGS from the environment (a Debian package build's hardening)
# are added.

set -eu

NGX_BUILD=$(cd "$1" && pwd)
OUT=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)

CORE="src/core/ngx_string.c src/core/ngx_inet.c src/core/ngx_palloc.c
      src/core/ngx_array.c src/core/ngx_parse.c src/core/ngx_rbtree.c
      src/core/ngx_crc32.c src/os/unix/ngx_alloc.c"
PURE="ngx_http_ir_schema ngx_http_ir_record ngx_http_ir_addr
      ngx_http_ir_decision ngx_http_ir_store ngx_http_ir_zone
      ngx_http_ir_notice ngx_http_ir_trail"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

if [ -n "${NGX_CORE_SRC:-}" ]; then
    SRC=$NGX_CORE_SRC
else
    SRC=$(bash "$ROOT/tools/nginx-source.sh" "$(dirname "$OUT")") || {
        echo "cli: ir-access needs nginx's core sources; see above" >&2
        exit 1
    }
fi

# core objects built from another release's source are built again
if [ "$(cat "$OUT/core-source" 2>/dev/null)" != "$SRC" ]; then
    rm -f "$OUT"/core-*.o
    echo "$SRC" > "$OUT/core-source"
fi

# nginx's own flags and include paths, as configured for the module; its
# warnings where a packager's CFLAGS replaced them at configure time
CFLAGS_NGX=$(sed -n 's/^CFLAGS = //p' "$NGX_BUILD/objs/Makefile")
case " $CFLAGS_NGX " in
    *" -Werror "*) ;;
    *) CFLAGS_NGX="$CFLAGS_NGX -W -Wall -Wpointer-arith -Wno-unused-parameter
                   -Werror" ;;
esac
CFLAGS_ALL="$CFLAGS_NGX ${CPPFLAGS:-} ${CFLAGS:-}"
INCS="-I $NGX_BUILD/src/core -I $NGX_BUILD/src/event
      -I $NGX_BUILD/src/event/modules -I $NGX_BUILD/src/os/unix
      -I $NGX_BUILD/objs -I $ROOT/src -I $ROOT/cli"

# nginx 1.25+ built with HTTP/3 (Debian 13's) includes QUIC's headers
if [ -d "$NGX_BUILD/src/event/quic" ]; then
    INCS="$INCS -I $NGX_BUILD/src/event/quic"
fi
CC=${CC:-cc}

cd "$OUT"

objs=
for f in $CORE; do
    o=core-$(basename "$f" .c).o
    [ "$o" -nt "$SRC/$f" ] \
        || $CC -c $CFLAGS_ALL -Wno-error $INCS "$SRC/$f" -o "$o"
    objs="$objs $o"
done

for f in $PURE; do
    $CC -c $CFLAGS_ALL $INCS "$ROOT/src/$f.c" -o "$f.o"
    objs="$objs $f.o"
done

for f in "$ROOT"/cli/*.c; do
    o=$(basename "$f" .c).o
    $CC -c $CFLAGS_ALL $INCS "$f" -o "$o"
    objs="$objs $o"
done

$CC ${LDFLAGS:-} -o ir-access.part $objs -lhiredis -lcrypto -lz
mv ir-access.part ir-access
