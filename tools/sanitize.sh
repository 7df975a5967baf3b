#!/bin/bash
# nginx and the module, both with AddressSanitizer and
# UndefinedBehaviorSanitizer, for "make test-sanitize":
#
#   tools/sanitize.sh BUILD_DIR
#
# builds BUILD_DIR/sanitize/nginx/objs/nginx and, in the same tree with the
# same flags, objs/ngx_http_ir_access_module.so.  nginx is Debian's source
# of the installed release (tools/nginx-source.sh), configured with the
# installed nginx's own arguments ("nginx -V"), less its compiler and
# linker options, which the sanitizers' replace, and less its dynamic
# modules, which are separate packages the tests never load.  Both are
# sanitized because nginx hands a new binary its environment without
# LD_PRELOAD, so a sanitizer runtime cannot be preloaded into a stock
# nginx across a binary upgrade.
#
# The tree is configured once and kept: later runs rebuild only what
# changed, normally the module alone.
#
# Two traps: with the sanitizers, configure finds crypt() in libasan's
# interceptor and links no libcrypt, so the interceptor has nothing to
# call (libcrypt is linked here by hand); and nginx's dynamic module build
# defines ngx_module_names in both the binary and the module, which ASan
# reports as an ODR violation unless ASAN_OPTIONS has
# detect_odr_violation=0 (set by the Makefile).

set -eu

BUILD=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)

mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
SAN=$BUILD/sanitize
TREE=$SAN/nginx

SRC=$(bash "$ROOT/tools/nginx-source.sh" "$BUILD")

SAN_FLAGS="-fsanitize=address,undefined"
CC_OPT="-g -O1 -fno-omit-frame-pointer $SAN_FLAGS"
LD_OPT="$SAN_FLAGS -lcrypt"

NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# the installed nginx's configure arguments, one a line (xargs undoes
# their shell quoting)
args=()
while IFS= read -r a; do
    case "$a" in
    --with-cc-opt=* | --with-ld-opt=* | --with-*=dynamic | \
    --add-dynamic-module=*)
        ;;
    *)
        args+=("$a")
        ;;
    esac
done < <("$NGINX" -V 2>&1 | sed -n 's/^configure arguments: //p' \
         | xargs -n 1 printf '%s\n')

[ ${#args[@]} -gt 0 ] || { echo "no configure arguments from $NGINX -V" >&2;
                           exit 1; }

for need in --with-compat --with-threads --with-debug; do
    [[ " ${args[*]} " == *" $need "* ]] || args+=("$need")
done

args+=("--with-cc-opt=$CC_OPT" "--with-ld-opt=$LD_OPT"
       "--add-dynamic-module=$ROOT")

# configured again only when the source, the arguments or the module's
# own configure script change
stamp=$( { echo "$SRC"; printf '%s\n' "${args[@]}"; cat "$ROOT/config"; } \
         | sha256sum | cut -d' ' -f1)

if [ "$(cat "$TREE/ir-stamp" 2>/dev/null)" != "$stamp" ] \
   || [ ! -f "$TREE/objs/Makefile" ]
then
    echo "sanitize: configuring nginx from $SRC" >&2
    rm -rf "$TREE"
    mkdir -p "$SAN"
    cp -a "$SRC" "$TREE"

    (cd "$TREE" && ./configure "${args[@]}") > "$SAN/configure.log" 2>&1 \
        || { tail -20 "$SAN/configure.log" >&2; exit 1; }

    echo "$stamp" > "$TREE/ir-stamp"
fi

make -C "$TREE" -f objs/Makefile -j "$(nproc)" > "$SAN/make.log" 2>&1 \
    || { grep -E 'error|Error' "$SAN/make.log" | head -30 >&2; exit 1; }
