#!/bin/bash
# nginx's own test suite with the module, run the two ways that matter:
#
#   tools/nginx-tests.sh SUITE.tar.gz MODULE.so OUT_DIR
#
# SUITE.tar.gz is nginx's test suite (github:nginx/nginx-tests) with one
# top folder.  A subset of it runs against the installed nginx three
# times: plain; with the module loaded but not enabled ("loaded"); and
# with the module on in every location of every test, in dry run, with
# the cache, notifications and the audit trail on a Redis of its own
# ("on").  A subtest that fails only with the module is run once more, to
# drop what flakes; what fails again is a new failure.  Exit status: 0
# none, and no worker exited on a signal; 1 new failures or a crash; 2 a
# setup problem.  OUT_DIR gets the lists and the output of what failed.
#
# As root the passes run as "nobody" in a private network namespace that
# has only "lo": the suite listens on fixed ports and must not run as
# root.  JOBS (4) test files run at a time; NGINX_TESTS_FILES='index.t
# ssi*.t' runs those instead of the subset; KEEP=1 keeps every test's
# folder, with its debug log.

set -u -o pipefail
export LC_ALL=C

[ $# = 3 ] || { echo "usage: $0 SUITE.tar.gz MODULE.so OUT_DIR" >&2; exit 2; }

SUITE=$1
MODULE=$(readlink -f "$2")
OUT=$3
JOBS=${JOBS:-4}
NGINX=${NGINX:-/usr/sbin/nginx}

FILES=${NGINX_TESTS_FILES:-'ssl*.t h2_ssl*.t proxy*.t access*.t auth_*.t realip*.t
  http_variables*.t limit_req*.t limit_conn*.t geo*.t upstream_keepalive*.t
  h2_auth_request.t h2_limit_conn.t h2_limit_req.t secure_link*.t
  http_error_page*.t http_try_files*.t post_action*.t mirror*.t
  http_location*.t index*.t rewrite*.t ssi*.t'}

die() { echo "nginx-tests: $*" >&2; exit 2; }

[ -f "$SUITE" ] || die "no test suite at $SUITE"
[ -f "$MODULE" ] || die "no module at $2"

# the test user must reach everything: a folder of its own under /tmp
WORK=$(mktemp -d -t ir-nginx-tests.XXXXXX) || exit 2
chmod 755 "$WORK"
REDIS=$WORK/redis

cleanup() {
    [ -f "$REDIS/redis.pid" ] && kill "$(cat "$REDIS/redis.pid")"
    if [ "${KEEP:-0}" = 1 ]; then
        echo "nginx-tests: test folders kept in $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir "$WORK/suite" "$WORK/mod" "$REDIS"
tar -xzf "$SUITE" -C "$WORK/suite" --strip-components=1 || die "bad $SUITE"
cp "$MODULE" "$WORK/mod/" || exit 2
chmod -R a+rX "$WORK"
FILES=$(cd "$WORK/suite" && ls $FILES 2>/dev/null | sort)
[ -n "$FILES" ] || die "$SUITE holds none of the test files"

RUN=()
if [ "$(id -u)" = 0 ]; then
    RUN=(unshare -n sh -c 'ip link set lo up && exec "$@"' sh
         setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)
fi

LOADED="load_module $WORK/mod/$(basename "$MODULE");"
ON="ir_access_redis unix:$REDIS/redis.sock; ir_access on;
    ir_access_mode dry_run; ir_access_audit stream=ir:audit;
    ir_access_cache zone=ir_nginx_tests:1m; ir_access_redis_notify on;"

# the module must at least load where the suite runs, with what way 2 adds

mkdir -m 777 "$WORK/preflight"
cat > "$WORK/preflight/nginx.conf" <<EOF
$LOADED
pid $WORK/preflight/nginx.pid;
events { }
http {
    access_log off;
    client_body_temp_path body; proxy_temp_path proxy;
    fastcgi_temp_path fastcgi; uwsgi_temp_path uwsgi; scgi_temp_path scgi;
    $ON
    server { listen 127.0.0.1:8000; }
}
EOF
"${RUN[@]}" "$NGINX" -t -q -p "$WORK/preflight/" -e stderr \
    -c "$WORK/preflight/nginx.conf" || die "nginx -t fails with the module"

redis-server --port 0 --unixsocket "$REDIS/redis.sock" --unixsocketperm 777 \
    --notify-keyspace-events KA --save '' --appendonly no \
    --daemonize yes --pidfile "$REDIS/redis.pid" --dir "$REDIS" \
    --logfile "$REDIS/redis.log" || die "redis-server did not start"

# pass NAME GLOBALS GLOBALS_HTTP FILE...: each file's TAP output, exit
# code and test folder (kept: its error log tells of crashes) in $WORK/NAME

pass() {
    local name=$1 globals=$2 http=$3 f
    shift 3

    mkdir -m 1777 "$WORK/$name"
    for f in "$@"; do mkdir -m 1777 "$WORK/$name/$f.d"; done

    (cd "$WORK/suite" && printf '%s\n' "$@" | "${RUN[@]}" \
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C HOME=/nonexistent \
            TEST_NGINX_BINARY="$NGINX" \
            TEST_NGINX_MODULES=/usr/lib/nginx/modules \
            TEST_NGINX_GLOBALS="$globals" TEST_NGINX_GLOBALS_HTTP="$http" \
            TEST_NGINX_LEAVE=1 OUT="$WORK/$name" \
        xargs -P "$JOBS" -I{} sh -c 'TMPDIR=$OUT/{}.d timeout -k 5 180 \
            perl {} > "$OUT/{}.tap" 2>&1; echo $? > "$OUT/{}.rc"')
    reap "$name"
}

# an nginx left running by a test that timed out goes too: it has its
# own session, which timeout(1) does not reach

reap() {
    local p pid
    for p in "$WORK/$1"/*.d/*/nginx.pid; do
        pid=$(cat "$p" 2>/dev/null) || continue
        [ "$(ps -o comm= -p "$pid")" = nginx ] && kill -KILL -- "-$pid"
    done
}

# keys NAME: "file key" for every subtest that failed ("#N"), a file that
# died, ran short or timed out (ERR), or was skipped as a whole (SKIP:
# nginx that does not start with the module makes a test skip)

keys() {
    local f rc
    for f in $(cd "$WORK/$1" && ls *.tap | sed 's/\.tap$//'); do
        rc=$(cat "$WORK/$1/$f.rc" 2>/dev/null || echo 124)
        awk -v f="$f" -v rc="$rc" '
            /^1\.\.0/ { print f, "SKIP"; skip = 1 }
            /^not ok / && !/# TODO/ { print f, "#" $3; n++ }
            END { if (!skip && rc != (n < 254 ? n : 254)) print f, "ERR" }
        ' "$WORK/$1/$f.tap"
    done | sort -u
}

# what NAME's error logs say of workers that died, with the test file

crashes() {
    grep -raH --include='*.log' 'exited on signal' "$WORK/$1" 2>/dev/null \
        | sed "s|^$WORK/$1/\([^/]*\)\.d/[^:]*:|\1: |"
}

# the subtest's own line, to say what failed

describe() {
    local name=$1 f=$2 k=$3
    case $k in
    \#*) grep -m1 "^not ok ${k#\#} " "$WORK/$name/$f.tap" ;;
    SKIP) grep -m1 '^1\.\.0' "$WORK/$name/$f.tap" ;;
    *) echo "died, ran short or timed out:" \
            "$(grep -m1 -iE 'died|dubious|error|^# Looks' \
                    "$WORK/$name/$f.tap")" ;;
    esac | cut -c1-160
}

START=$(date +%s)
elapsed() { echo "$(( $(date +%s) - START ))s"; }

echo "nginx-tests: $($NGINX -v 2>&1 | sed 's/.*\///'), $(echo "$FILES" \
    | wc -l) files, $JOBS at a time$([ ${#RUN[@]} -gt 0 ] \
    && echo ', as nobody in a private network namespace')"

# shellcheck disable=SC2086
pass plain "" "" $FILES
keys plain > "$WORK/plain.keys"
echo "nginx-tests: plain pass done ($(elapsed))"

rm -rf "$OUT" && mkdir -p "$OUT" || exit 2
cp "$WORK/plain.keys" "$OUT/plain.failures"
crashes plain > "$OUT/plain.crashes"

rc=0

for way in loaded on; do
    case $way in
    loaded) http= ;;
    on) http=$ON ;;
    esac

    # shellcheck disable=SC2086
    pass $way "$LOADED" "$http" $FILES
    keys $way | comm -23 - "$WORK/plain.keys" > "$WORK/$way.new"
    echo "nginx-tests: module $way, pass done ($(elapsed))"

    new=$(cut -d' ' -f1 "$WORK/$way.new" | sort -u)
    : > "$WORK/$way.confirmed"

    if [ -n "$new" ]; then
        # shellcheck disable=SC2086
        pass $way.again "$LOADED" "$http" $new
        keys $way.again | comm -12 - "$WORK/$way.new" > "$WORK/$way.confirmed"
    fi

    comm -23 "$WORK/$way.new" "$WORK/$way.confirmed" > "$OUT/$way.flaky"
    crashes $way > "$OUT/$way.crashes"
    [ -n "$new" ] && crashes $way.again >> "$OUT/$way.crashes"

    sort -V "$WORK/$way.confirmed" | while read -r f k; do
        echo "  $f $(describe $way "$f" "$k")"
    done > "$OUT/$way.failures"

    # the output of every file that failed, for the reader
    mkdir "$OUT/$way"
    for f in $(cut -d' ' -f1 "$WORK/$way.confirmed" "$OUT/$way.flaky" \
               | sort -u)
    do
        cp "$WORK/$way/$f.tap" "$OUT/$way/"
    done

    n=$(wc -l < "$WORK/$way.confirmed")
    c=$(wc -l < "$OUT/$way.crashes")
    echo "nginx-tests: module $way: $n new failures in $(cut -d' ' -f1 \
        "$WORK/$way.confirmed" | sort -u | wc -l) files, $(wc -l \
        < "$OUT/$way.flaky") flaky, $c workers exited on a signal" \
        "($(elapsed))"
    head -50 "$OUT/$way.failures"
    [ "$n" -gt 50 ] && echo "  ... (all in $OUT/$way.failures)"
    cut -d: -f1 "$OUT/$way.crashes" | sort | uniq -c | sort -rn | head -20 \
        | awk '{ print "  " $2 ": " $1 " workers exited on a signal" }'

    [ "$n" -gt 0 ] || [ "$c" -gt 0 ] && rc=1
done

echo "nginx-tests: without the module, $(grep -c ' SKIP$' \
    "$OUT/plain.failures") files skip, $(wc -l < "$OUT/plain.crashes")" \
    "workers exited on a signal, and these fail (ignored):" \
    $(grep -v ' SKIP$' "$OUT/plain.failures" | cut -d' ' -f1 | sort -u)

exit $rc
