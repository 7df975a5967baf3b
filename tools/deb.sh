#!/bin/bash
# Builds the Debian package, libnginx-mod-http-ir-access, the way Debian
# builds its own libnginx-mod-* packages: dpkg-buildpackage over debian/,
# whose rules are "dh $@ --with nginx".  dpkg-buildpackage writes into the
# parent of the tree it builds, so the tree is copied under the output
# folder (build/deb) first and the checkout stays clean.
#
# The version is the module's, NGX_HTTP_IR_ACCESS_VERSION in
# src/ngx_http_ir_version.h: debian/changelog is written here from it, so
# that the package can never claim another.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/build/deb}
PACKAGE=libnginx-mod-http-ir-access

version=$(sed -n 's/^#define NGX_HTTP_IR_ACCESS_VERSION  *"\(.*\)"$/\1/p' \
          "$ROOT/src/ngx_http_ir_version.h")

# a native package's version: digits first, then letters, digits, . + ~
if ! [[ $version =~ ^[0-9][A-Za-z0-9.+~]*$ ]]; then
    echo "deb: NGX_HTTP_IR_ACCESS_VERSION in src/ngx_http_ir_version.h" \
         "is \"$version\", not a Debian version" >&2
    exit 1
fi

arch=$(dpkg --print-architecture)
deb=$OUT/${PACKAGE}_${version}_$arch.deb
tree=$OUT/$PACKAGE-$version

rm -rf "$OUT"
mkdir -p "$tree"

# the working tree as it is (uncommitted edits included), without the
# build output and git's own folder
tar -C "$ROOT" --exclude=./build --exclude=./.git -cf - . \
    | tar -C "$tree" -xf -

# The changelog names the release the package is built on and is dated
# by the last commit, which makes the build reproducible (dpkg takes
# SOURCE_DATE_EPOCH from it).
maintainer=$(sed -n 's/^Maintainer: *//p' "$tree/debian/control")
. /etc/os-release
date=$(git -C "$ROOT" log -1 --format=%aD 2>/dev/null || date -R)

cat > "$tree/debian/changelog" << END
$PACKAGE ($version) ${VERSION_CODENAME:-unstable}; urgency=medium

  * ir-access $version, built for Debian ${VERSION_ID:-unstable}. What changed,
    and why, is in /usr/share/doc/$PACKAGE/changelog.gz.

 -- $maintainer  $date
END

echo "deb: building $PACKAGE $version in $tree"
if ! (cd "$tree" && nice -n 10 dpkg-buildpackage -b -us -uc) \
     > "$OUT/build.log" 2>&1
then
    tail -n 40 "$OUT/build.log"
    echo "deb: dpkg-buildpackage failed, the whole log: $OUT/build.log" >&2
    exit 1
fi

# Errors fail the build; warnings and the rest are shown.
echo "deb: lintian"
lintian --fail-on error --display-info "$OUT/${PACKAGE}_${version}_$arch.changes"

echo "deb: $deb"
