#!/bin/sh
# Installs the Debian packages the project needs, only those missing, so
# that "make test" and "make demo" work on a fresh Debian 12 or 13 machine.

missing=
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
        || missing="$missing $p"
done

[ -z "$missing" ] && exit 0

echo "installing:$missing"

if [ "$(id -u)" != 0 ]; then
    echo "deps: run as root, or install these packages by hand" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || exit 1
apt-get install -y -qq --no-install-recommends $missing > /dev/null || exit 1

# Debian starts the services it installs (nginx on port 80, redis-server on
# 6379); they are left as they are.  The tests run their own instances on
# free ports of their own and never need those stopped.
exit 0
