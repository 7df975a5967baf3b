#!/bin/bash
# Debian's source of the installed nginx, as Debian builds it (patches
# applied), for the unit tests' nginx core files and the sanitizer build:
#
#   tools/nginx-source.sh BUILD_DIR
#
# prints the folder, BUILD_DIR/nginx-src-VERSION, where VERSION is the
# installed nginx's source version.  The first run fetches it with
# "apt-get source" from the archives this machine's apt already uses: each
# "deb" entry of its sources (one-line and deb822) becomes a "deb-src"
# entry with the same URIs, suites, components and keys, in a private apt
# configuration under BUILD_DIR/apt, so that the system's own is left as
# it was found.  Later runs find the folder and fetch nothing.
#
# Without the source (no network, no deb-src for that version), it says
# why on stderr and exits 1.

set -eu

BUILD=$1

fail() {
    echo "nginx source: $*" >&2
    exit 1
}

mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)

# The source package and version of the nginx installed, with its Debian
# revision: the patches Debian applies are part of what runs.
NAME=$(dpkg-query -W -f='${source:Package}' nginx 2>/dev/null) \
    || fail "nginx is not installed from a Debian package"
VERSION=$(dpkg-query -W -f='${source:Version}' nginx)

SRC=$BUILD/nginx-src-${VERSION#*:}

if [ -f "$SRC/configure" ]; then
    echo "$SRC"
    exit 0
fi

command -v dpkg-source > /dev/null \
    || fail "dpkg-source is missing: install dpkg-dev"

APT=$BUILD/apt
LOG=$APT/log
rm -rf "$APT" "$SRC.part"
mkdir -p "$APT/sources.list.d" "$APT/lists/partial" \
         "$APT/cache/archives/partial" "$SRC.part"
: > "$APT/sources.list"

# The system's sources, where apt looks for them.
eval "$(apt-config shell LIST Dir::Etc::SourceList/f \
                         PARTS Dir::Etc::SourceParts/d)"

# One-line entries: "deb [options] uri suite components" gives the same
# line as "deb-src".
for f in "$LIST" "$PARTS"*.list; do
    [ -f "$f" ] || continue
    sed -n 's/^[[:space:]]*deb\(-src\)\{0,1\}[[:space:]]/deb-src /p' "$f"
done | awk '!seen[$0]++' > "$APT/sources.list.d/deb-src.list"

# deb822 stanzas: the same fields (URIs, Suites, Components, Signed-By and
# its continuation lines) under "Types: deb-src"; disabled ones are left.
for f in "$PARTS"*.sources; do
    [ -f "$f" ] || continue
    awk '
        function flush(i) {
            if (n && types ~ /(^|[ \t])deb(-src)?([ \t]|$)/ &&
                tolower(enabled) !~ /^[ \t]*no[ \t]*$/)
            {
                print "Types: deb-src"
                for (i = 1; i <= n; i++) {
                    print field[i]
                }
                print ""
            }
            n = 0; types = ""; enabled = ""
        }
        /^#/ { next }
        /^[ \t]*$/ { flush(); next }
        tolower($0) ~ /^types:/ { types = substr($0, 7); next }
        tolower($0) ~ /^enabled:/ { enabled = substr($0, 9); next }
        { field[++n] = $0 }
        END { flush() }
    ' "$f"
done > "$APT/sources.list.d/deb-src.sources"

[ -s "$APT/sources.list.d/deb-src.list" ] \
    || [ -s "$APT/sources.list.d/deb-src.sources" ] \
    || fail "no deb entries in $LIST or $PARTS"

apt() {
    local cmd=$1
    shift
    "$cmd" -q -o Dir::Etc::SourceList="$APT/sources.list" \
        -o Dir::Etc::SourceParts="$APT/sources.list.d" \
        -o Dir::State::Lists="$APT/lists" \
        -o Dir::Cache="$APT/cache" \
        -o Acquire::Retries=1 -o Acquire::http::Timeout=30 \
        -o Acquire::https::Timeout=30 "$@"
}

# Fetches and unpacks one version into $SRC.part: "$1" is the version,
# "$2" an option of apt-get source.
fetch() {
    rm -rf "$SRC.part"
    mkdir "$SRC.part"
    echo "apt-get source ${2:-} $NAME=$1" >> "$LOG"
    (cd "$SRC.part" && apt apt-get source ${2:-} "$NAME=$1") >> "$LOG" 2>&1
}

# A source without deb-src indexes is only a warning here: whether the
# version wanted was found is "apt-get source"'s answer.
apt apt-get update > "$LOG.update" 2>&1 || true
cat "$LOG.update" >> "$LOG"

# An archive may keep the binaries of an update but not its sources (as
# some mirrors of the security archive do): then the newest Debian
# revision of the same nginx release that can be fetched, and failing
# that the release's own tarball without Debian's patches.  The folder
# says which in its IR-SOURCE file.
UPSTREAM=${VERSION#*:}
UPSTREAM=${UPSTREAM%-*}
got=

if fetch "$VERSION"; then
    got="$NAME $VERSION"
else
    why=$(grep -E '^(E|W):' "$LOG.update" | grep -v unsandboxed | head -1)
    why=${why:-$(grep '^E:' "$LOG" | tail -1)}

    for v in $(apt apt-cache showsrc "$NAME" 2>/dev/null \
               | sed -n 's/^Version: //p' | sort -u -r -V)
    do
        u=${v#*:}
        [ "$v" != "$VERSION" ] && [ "${u%-*}" = "$UPSTREAM" ] || continue

        if fetch "$v"; then
            got="$NAME $v (the source of $VERSION could not be fetched)"
            break
        fi
    done

    if [ -z "$got" ]; then
        if fetch "$VERSION" --tar-only; then
            tar xf "$SRC.part"/*.orig.tar.* -C "$SRC.part"
            got="$NAME $UPSTREAM, its orig tarball without Debian's patches"
            got="$got (the source of $VERSION could not be fetched)"
        fi
    fi

    [ -n "$got" ] || fail "apt-get source $NAME=$VERSION failed: $why" \
                          "(see $LOG)"

    echo "nginx source: $got" >&2
fi

tree=$(find "$SRC.part" -mindepth 2 -maxdepth 2 -name configure)
[ -n "$tree" ] || fail "no nginx tree in the source of $NAME=$VERSION"

echo "$got" > "$(dirname "$tree")/IR-SOURCE"
mv "$(dirname "$tree")" "$SRC"
rm -rf "$SRC.part" "$APT"

echo "$SRC"
