#!/bin/bash
# Runs the project's "make test" inside a Debian 13 ("trixie") root, as CI
# does on Debian 12 itself:
#
#   tools/debian13.sh ROOT [MAKE_TARGET...]        (default: test)
#
# The root is made once with mmdebstrap from the Debian mirror that this
# machine's apt sources name (no host is written here), and kept at ROOT
# with a stamp; a later run finds it and skips the bootstrap.  The packages
# the tests need are installed inside by the project's own "make deps", so
# that the Makefile's DEB_PACKAGES stays their only list: the stamp holds
# that list's hash, and a new list makes a new root.
#
# Each run copies the checkout's files (tracked and untracked, not ignored:
# never build/) afresh into ROOT/ir-access, mounts /proc, /dev, /dev/pts and
# /sys inside, runs the target with chroot (a new root's "make deps" first),
# and unmounts on the way out, failure or signal alike.  Packages installed
# inside never start their services (policy-rc.d), and nothing a test
# started inside outlives the run.

set -euo pipefail

ROOT=$(realpath -m "$1")
shift
TARGETS=("${@:-test}")

SUITE=trixie
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
INCLUDE=make,ca-certificates
PROJECT=$(cd "$(dirname "$0")/.." && pwd)
SRC=/ir-access

die() {
    echo "debian13: $*" >&2
    exit 1
}

[ "$(id -u)" = 0 ] || die "chroot and mounts need root"

# The configured Debian archive ------------------------------------------

# Prints "URI SUITE" for every enabled "deb" source of this machine, from
# sources.list and sources.list.d in both the one-line and deb822 formats.
configured_sources() {
    local f

    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        # deb [options] URI SUITE COMPONENT...
        sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" \
            | awk '$1 == "deb" && NF >= 3 { print $2, $3 }'
    done

    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk '
            function flush(   i, j, nu, ns, u, s) {
                if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no") {
                    nu = split(uris, u, /[ \t]+/)
                    ns = split(suites, s, /[ \t]+/)
                    for (i = 1; i <= nu; i++)
                        for (j = 1; j <= ns; j++)
                            if (u[i] != "" && s[j] != "")
                                print u[i], s[j]
                }
                types = uris = suites = enabled = ""
            }
            /^#/ { next }
            /^[ \t]*$/ { flush(); next }
            {
                field = tolower($0); sub(/:.*/, "", field)
                value = $0; sub(/^[^:]*:[ \t]*/, "", value)
                if (field == "types") types = value
                else if (field == "uris") uris = value
                else if (field == "suites") suites = value
                else if (field == "enabled") enabled = tolower(value)
            }
            END { flush() }
        ' "$f"
    done
}

# The archive is the source of this release's own suite, the security
# archive that of its "-security" suite.
. /etc/os-release
HOST_SUITE=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}

MIRROR=$(configured_sources | awk -v s="$HOST_SUITE" '$2 == s { print $1; exit }')
SECURITY=$(configured_sources \
           | awk -v s="$HOST_SUITE-security" '$2 == s { print $1; exit }')

[ -n "$MIRROR" ] \
    || die "no Debian archive for \"$HOST_SUITE\" in /etc/apt/sources.list{,.d}"

SOURCES=("deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main")
[ -n "$SECURITY" ] && SOURCES+=("deb $SECURITY $SUITE-security main")

# the Makefile's list, which "make deps" installs inside
DEB_PACKAGES=$(make -s --no-print-directory -C "$PROJECT" \
                    --eval='deb-packages: ; @echo $(DEB_PACKAGES)' deb-packages)

STAMP_TEXT=$(printf '%s\n' "suite $SUITE" "include $INCLUDE" \
                           "packages $DEB_PACKAGES" "${SOURCES[@]}" \
                           "bootstrap 1")
STAMP_HASH=$(echo "$STAMP_TEXT" | sha256sum | cut -d' ' -f1)
STAMP=$ROOT/.ir-access-root

# Mounts -------------------------------------------------------------------

mounted_under() {
    # the mount points at or below $1, deepest first
    awk -v root="$1" '$2 == root || index($2, root "/") == 1 { print $2 }' \
        /proc/self/mounts | sort -r
}

root_processes() {
    local p

    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ] && echo "${p#/proc/}"
    done
    return 0
}

# Whatever a test left running inside (nginx, redis-server) was started by
# this run: asked to stop, then killed, round after round, since one may
# start another between a look and the signal.
stop_root_processes() {
    local pids round

    for round in 1 2 3 4 5 6 7 8 9 10; do
        pids=$(root_processes)
        [ -z "$pids" ] && return 0

        if [ $round = 1 ]; then
            kill -TERM $pids 2>/dev/null || true
            sleep 1
        else
            kill -KILL $pids 2>/dev/null || true
            sleep 0.2
        fi
    done

    echo "debian13: still running inside:" $(root_processes) >&2
}

unmount_all() {
    local m

    stop_root_processes

    for m in $(mounted_under "$ROOT"); do
        umount "$m" 2>/dev/null || umount -l "$m" \
            || echo "debian13: could not unmount $m" >&2
    done
}

# Each bind is made a slave before anything is mounted on it, so that
# nothing mounted or unmounted inside propagates to the host's /dev or /sys.
mount_root() {
    mount -t proc proc "$ROOT/proc"
    mount --bind /dev "$ROOT/dev"
    mount --make-rslave "$ROOT/dev"
    mount --bind /dev/pts "$ROOT/dev/pts"
    mount --bind /sys "$ROOT/sys"
    mount --make-rslave "$ROOT/sys"
}

on_exit() {
    local rc=$?
    trap - EXIT INT TERM HUP
    [ -d "$ROOT" ] && unmount_all
    exit $rc
}

trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# The root -----------------------------------------------------------------

# a run killed before its trap could leave mounts behind
[ -d "$ROOT" ] && unmount_all

if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$STAMP_HASH" ]; then
    echo "debian13: bootstrapping $SUITE into $ROOT from $MIRROR"
    printf '    %s\n' "${SOURCES[@]}"

    [ -z "$(mounted_under "$ROOT")" ] || die "$ROOT still has mounts"
    [ -z "$(mounted_under "$ROOT.part")" ] || die "$ROOT.part has mounts"
    rm -rf --one-file-system "$ROOT" "$ROOT.part"
    mkdir -p "$(dirname "$ROOT")"

    # the root never starts the services its packages install
    if ! mmdebstrap --mode=root --variant=minbase --keyring="$KEYRING" \
           --include="$INCLUDE" \
           --customize-hook='printf "#!/bin/sh\nexit 101\n" > "$1/usr/sbin/policy-rc.d"' \
           --customize-hook='chmod 755 "$1/usr/sbin/policy-rc.d"' \
           "$SUITE" "$ROOT.part" "${SOURCES[@]}"
    then
        rm -rf --one-file-system "$ROOT.part"
        die "mmdebstrap failed (does $KEYRING carry $SUITE's keys? an" \
            "up-to-date debian-archive-keyring does)"
    fi

    mv "$ROOT.part" "$ROOT"
    NEW_ROOT=1
else
    echo "debian13: using the root at $ROOT"
    NEW_ROOT=
fi

# name resolution as the host has it, for apt; no test's leftovers
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
cp -L /etc/hosts "$ROOT/etc/hosts" 2>/dev/null || true
find "$ROOT/tmp" -mindepth 1 -xdev -delete

mount_root

# The checkout, copied: the root's build/ is its own ----------------------

rm -rf --one-file-system "${ROOT:?}$SRC"
mkdir -p "$ROOT$SRC"

if git -C "$PROJECT" rev-parse --git-dir > /dev/null 2>&1; then
    (cd "$PROJECT" \
     && git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do
              [ -e "$f" ] && printf '%s\0' "$f"
          done \
        | tar --null -T - -cf -) \
        | tar -xf - -C "$ROOT$SRC"
else
    tar -C "$PROJECT" --exclude=./build --exclude=./.git -cf - . \
        | tar -xf - -C "$ROOT$SRC"
fi

# In the background, waited for: a signal to this script is then handled
# at once (bash runs a trap only between commands), and the trap ends what
# runs inside before it unmounts.
in_root() {
    chroot "$ROOT" /usr/bin/env -i \
        HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" ${CI:+CI=$CI} \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /bin/bash -c "cd $SRC && $1" &
    wait $!
}

in_root 'echo "debian13: $(. /etc/os-release; echo $PRETTY_NAME)"'

if [ -n "$NEW_ROOT" ]; then
    in_root 'make deps'
    echo "$STAMP_HASH" > "$STAMP"
fi

in_root "make ${TARGETS[*]}"
