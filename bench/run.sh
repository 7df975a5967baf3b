#!/bin/bash
# ir-access benchmark: the module against plain nginx and its peers, on
# loopback, with a client certificate on every connection.
#
#   make bench                       (or: bash bench/run.sh)
#   ROUNDS=5 SECONDS_EACH=10 make bench
#
# One nginx worker per configuration, pinned to CPU 0; the load
# generators (ApacheBench -k -E), Redis and the backend on CPU 1.
#
# (a) throughput, p50 and p99 in interleaved rounds, medians;
# (b) nginx worker CPU time per request (from /proc/<pid>/schedstat),
#     with plain nginx and the configuration measured running at the same
#     moment on the same pinned core, each driven by its own ab, so that
#     the machine's drift cancels; "plain (control)" is a second copy of
#     plain nginx, and shows the method's own error;
# (c) CPU per request and cache hit rate as the number of users grows;
# (d) counted, not timed: user-space instructions per request under
#     callgrind and system calls per request under strace, which repeat
#     whatever the machine is doing (COUNTS=0 skips it).

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODULE=$ROOT/build/ngx_http_ir_access_module.so
ROUNDS=${ROUNDS:-3}
SECONDS_EACH=${SECONDS_EACH:-6}
CONCURRENCY=${CONCURRENCY:-16}
USERS=${USERS:-10 1000 100000}
USER_ROUNDS=${USER_ROUNDS:-3}
COUNTS=${COUNTS:-1}
COUNT_REQUESTS=${COUNT_REQUESTS:-5000}
DIR=$(mktemp -d /tmp/ir-bench-XXXXXX)
chmod 755 "$DIR"

# below the ephemeral range, where clients' own ports could collide
BASE=$(( 20000 + RANDOM % 10000 ))
REDIS_PORT=$BASE
BACKEND_PORT=$(( BASE + 1 ))

CONFIGS=${CONFIGS:-"plain control cache quota nocache auth_request lua"}

declare -A PORT LABEL
LABEL[plain]="plain nginx mTLS proxy"
LABEL[control]="plain (control)"
LABEL[cache]="ir-access, warm cache"
LABEL[quota]="ir-access, cache + quotas"
LABEL[nocache]="ir-access, cache off"
LABEL[auth_request]="auth_request to a 204"
LABEL[lua]="access_by_lua + Redis"
LABEL[users]="ir-access, warm cache"

cleanup() {
    local pids=""
    for pid in "$DIR"/*.pid; do
        [ -s "$pid" ] && pids="$pids $(cat "$pid")"
    done
    [ -n "$pids" ] && kill -TERM $pids 2>/dev/null
    redis-cli -p $REDIS_PORT shutdown nosave > /dev/null 2>&1 || true
    for _ in $(seq 50); do
        kill -0 $pids 2>/dev/null || break
        sleep 0.1
    done
    [ -n "${KEEP:-}" ] || rm -rf "$DIR"
}
trap cleanup EXIT

cd "$DIR"
mkdir -p logs tmp

# the PKI ---------------------------------------------------------------------

cert() {
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key \
        -CAcreateserial -days 2 ${2:+-extfile $2} -out "$1.crt" 2>/dev/null
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca.key -out ca.crt -days 2 -subj /CN=bench-ca 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > server.ext
cert server server.ext
cert bench
cat bench.crt bench.key > bench.pem
FP=$(openssl x509 -in bench.crt -noout -fingerprint -sha256 | cut -d= -f2)

# Redis and the backend, on CPU 1 ----------------------------------------------

taskset -c 1 redis-server --port $REDIS_PORT --bind 127.0.0.1 --save "" \
    --daemonize yes --logfile "$DIR/redis.log" \
    --pidfile "$DIR/redis.pid.txt" > /dev/null
sleep 0.3
redis() { redis-cli -p $REDIS_PORT "$@"; }

provision() {
    redis HSET ir:org:bank name Bench contract B-1 env prod > /dev/null
    redis SADD ir:org:bank:scopes person.basic > /dev/null
    redis HSET ir:user:bench org bank cert "$FP" > /dev/null
    redis SADD ir:user:bench:ips 127.0.0.1 > /dev/null
}

provision

cat > backend.conf <<EOF
worker_processes 1;
worker_cpu_affinity 10;
pid $DIR/backend.pid;
error_log $DIR/logs/backend.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$BACKEND_PORT;
        keepalive_requests 100000;
        location / { return 200 '{"person":"sample"}'; }
    }
}
EOF
nginx -p "$DIR" -c "$DIR/backend.conf"

# the gateways, each one worker on CPU 0 ---------------------------------------

gateway() {
    # gateway NAME PORT MAIN HTTP LOCATION, where CONFIGS has it
    [[ " $CONFIGS users " == *" $1 "* ]] || return 0
    cat > "$1.conf" <<EOF
$3
worker_processes 1;
worker_cpu_affinity 01;
pid $DIR/$1.pid;
error_log $DIR/logs/$1.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $DIR/tmp;
    $4
    upstream backend {
        server 127.0.0.1:$BACKEND_PORT;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$2 ssl;
        ssl_certificate $DIR/server.crt;
        ssl_certificate_key $DIR/server.key;
        ssl_client_certificate $DIR/ca.crt;
        ssl_verify_client on;
        keepalive_requests 100000;
        location / {
            $5
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://backend;
        }
        location = /auth {
            internal;
            return 204;
        }
    }
}
EOF
    nginx -p "$DIR" -c "$DIR/$1.conf"
    PORT[$1]=$2
}

IR_HTTP="ir_access_redis 127.0.0.1:$REDIS_PORT;"
IR_MAIN="load_module $MODULE;"
LUA_MAIN="load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;"

# the Lua peer: one Redis round trip a request, as resty.redis is used
LUA_ACCESS='access_by_lua_block {
                local redis = require "nginx.redis"
                local red = redis:new()
                red:set_timeout(500)
                local ok = red:connect("127.0.0.1", '$REDIS_PORT')
                if not ok then return ngx.exit(503) end
                local user = ngx.var.ssl_client_s_dn:match("CN=([^,/]+)")
                red:init_pipeline()
                red:hgetall("ir:user:" .. user)
                red:sismember("ir:user:" .. user .. ":ips", ngx.var.remote_addr)
                local res = red:commit_pipeline()
                red:set_keepalive(10000, 32)
                if not res or res[2] ~= 1 then return ngx.exit(403) end
            }'

gateway plain $(( BASE + 10 )) "" "" ""
gateway control $(( BASE + 11 )) "" "" ""
gateway cache $(( BASE + 12 )) "$IR_MAIN" \
    "$IR_HTTP ir_access_cache zone=ir:16m ttl=1h;" "ir_access on;"
gateway quota $(( BASE + 17 )) "$IR_MAIN" \
    "$IR_HTTP ir_access_cache zone=ir:16m ttl=1h;" \
    "ir_access on; ir_access_quota rate=1000000000/m daily=1000000000;"
gateway nocache $(( BASE + 13 )) "$IR_MAIN" "$IR_HTTP" "ir_access on;"
gateway auth_request $(( BASE + 14 )) "" "" "auth_request /auth;"
gateway lua $(( BASE + 15 )) "$LUA_MAIN" \
    "lua_package_path '/usr/share/lua/5.1/?.lua;;';" "$LUA_ACCESS"
gateway users $(( BASE + 16 )) "$IR_MAIN" \
    "$IR_HTTP ir_access_cache zone=users:256m ttl=1h;" \
    "ir_access on; ir_access_identity \$arg_u;"
sleep 0.5

worker_of() {
    pgrep -P "$(cat "$DIR/$1.pid")" | head -1
}

cpu_ns() {
    # time the worker has run, in nanoseconds
    cut -d' ' -f1 "/proc/$(worker_of "$1")/schedstat"
}

url() {
    printf 'https://127.0.0.1:%s/api/persons/1' "${PORT[$1]}"
}

# each configuration must answer 200 before it is measured
for c in $CONFIGS; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --cacert ca.crt \
           --cert bench.crt --key bench.key "$(url $c)")
    if [ "$code" != 200 ]; then
        echo "bench: $c answers $code, see $DIR/logs/$c.log" >&2
        KEEP=1
        exit 1
    fi
done

load() {
    # load CONFIG SECONDS OUTPUT: ab on CPU 1
    taskset -c 1 ab -q -k -c $CONCURRENCY -t "$2" -n 100000000 \
        -E bench.pem -e "$3.csv" "$(url $1)" > "$3.txt" 2>&1
}

requests() { awk '/^Complete requests/ {print $3}' "$1.txt"; }
rps() { awk '/^Requests per second/ {print $4}' "$1.txt"; }
pct() { awk -F, -v p="$2" '$1 == p {print $2}' "$1.csv"; }

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for c in $CONFIGS; do
    load $c 1 warm-$c     # warm the caches, connections and scripts
done

if [ -n "${PROFILE:-}" ]; then
    # PROFILE=cache: where the worker of that configuration spends its time
    perf record -q -F 4999 -o "$DIR/perf.data" -p "$(worker_of $PROFILE)" \
        -- sleep "$SECONDS_EACH" > /dev/null 2>&1 &
    load $PROFILE "$SECONDS_EACH" profile
    wait
    perf report -i "$DIR/perf.data" --no-children --sort ${PROFILE_SORT:-dso,symbol} ${PROFILE_DSO:+--dsos $PROFILE_DSO} \
        --stdio 2>/dev/null | grep -v '^#' | grep '%' | head -60
    exit 0
fi

if [ -n "${USERS_ONLY:-}" ]; then
    ROUNDS=0
fi

echo "ir-access benchmark: $ROUNDS rounds of ${SECONDS_EACH}s, ab -k -c" \
     "$CONCURRENCY -E, one nginx worker on CPU 0"
echo

# (a) throughput and latency, interleaved rounds --------------------------------

for round in $(seq "$ROUNDS"); do
    for c in $CONFIGS; do
        load $c "$SECONDS_EACH" a-$c-$round
        echo "$(rps a-$c-$round)" >> a-$c.rps
        echo "$(pct a-$c-$round 50)" >> a-$c.p50
        echo "$(pct a-$c-$round 99)" >> a-$c.p99
    done
done

# (b) CPU per request, each configuration beside plain nginx ------------------

for round in $(seq "$ROUNDS"); do
    for c in $CONFIGS; do
        [ "$c" = plain ] && continue
        p0=$(cpu_ns plain); x0=$(cpu_ns $c)
        load plain "$SECONDS_EACH" b-plain-$c-$round &
        load $c "$SECONDS_EACH" b-$c-$round
        wait
        p1=$(cpu_ns plain); x1=$(cpu_ns $c)
        awk -v p=$(( p1 - p0 )) -v x=$(( x1 - x0 )) \
            -v pn="$(requests b-plain-$c-$round)" \
            -v xn="$(requests b-$c-$round)" \
            'BEGIN {printf "%.4f %.1f\n", (x / xn) / (p / pn), x / xn / 1000}' \
            >> b-$c.ratio
    done
done

if [ "$ROUNDS" -gt 0 ]; then

plain_rps=$(median < a-plain.rps)
plain_p99=$(median < a-plain.p99)

printf '%-26s %9s %7s %8s %8s %8s %10s %9s\n' configuration "req/s" \
    "x plain" "p50 ms" "p99 ms" "+p99 ms" "CPU/req" "x plain"
printf '%-26s %9s %7s %8s %8s %8s %10s %9s\n' "" "(a)" "(a)" "(a)" "(a)" \
    "(a)" "us (b)" "(b)"

for c in $CONFIGS; do
    r=$(median < a-$c.rps)
    p50=$(median < a-$c.p50)
    p99=$(median < a-$c.p99)

    if [ "$c" = plain ]; then
        cpu="-"; ratio="1.000"
    else
        cpu=$(awk '{print $2}' b-$c.ratio | median)
        ratio=$(awk '{print $1}' b-$c.ratio | median)
    fi

    awk -v l="${LABEL[$c]}" -v r="$r" -v pr="$plain_rps" -v p50="$p50" \
        -v p99="$p99" -v pp="$plain_p99" -v cpu="$cpu" -v ratio="$ratio" \
        'BEGIN {printf "%-26s %9.0f %7.3f %8.2f %8.2f %+8.2f %10s %9.3f\n",
                l, r, r / pr, p50, p99, p99 - pp, cpu, ratio}'
done

fi

# (c) users: cache hit rate and CPU per request as users grow -----------------
#
# Every population is provisioned and its cache filled first; then the
# measured passes of all populations alternate, round after round, so that
# each round's ratio to 10 users is taken with the machine as it is then.

fetch() {
    taskset -c 1 curl -s --no-progress-meter --parallel \
        --parallel-max $CONCURRENCY --cacert ca.crt \
        --cert bench.crt --key bench.key -K "$1"
}

for n in $USERS; do
    # n users behind the one certificate, u<n>-1 ... u<n>-<n>
    awk -v n="$n" -v fp="$FP" 'BEGIN {
        for (i = 1; i <= n; i++) {
            printf "HSET ir:user:u%d-%d org bank cert %s\r\n", n, i, fp
            printf "SADD ir:user:u%d-%d:ips 127.0.0.1\r\n", n, i
        }
    }' | redis --pipe > /dev/null

    # passes over all of them, in an order shuffled once
    total=$(( n < 20000 ? 40000 : n ))
    seq "$n" | shuf | awk -v n="$n" -v total="$total" \
                          -v port="${PORT[users]}" '
        { u[NR] = $1 }
        END {
            for (i = 0; i < total; i++)
                printf "url = \"https://127.0.0.1:%s/api/persons/1?u=u%d-%d\"\noutput = \"/dev/null\"\n",
                       port, n, u[i % NR + 1]
        }' > urls-$n.txt

    head -n $(( 2 * n )) urls-$n.txt > warm-$n.txt
    fetch warm-$n.txt
done

for round in $(seq "$USER_ROUNDS"); do
    base=""
    for n in $USERS; do
        redis CONFIG RESETSTAT > /dev/null
        c0=$(cpu_ns users)
        fetch urls-$n.txt
        c1=$(cpu_ns users)

        lookups=$(redis INFO commandstats \
                  | awk -F'[=,]' '/^cmdstat_eval/ {n += $2} END {print n + 0}')
        total=$(( n < 20000 ? 40000 : n ))

        cpu=$(awk -v ns=$(( c1 - c0 )) -v t="$total" \
              'BEGIN {printf "%.2f", ns / t / 1000}')
        [ -n "$base" ] || base=$cpu

        echo "$cpu" >> c-$n.cpu
        awk -v c="$cpu" -v b="$base" 'BEGIN {printf "%.4f\n", c / b}' \
            >> c-$n.ratio
        awk -v l="$lookups" -v t="$total" \
            'BEGIN {printf "%.1f\n", 100 * (1 - l / t)}' >> c-$n.hits
    done
done

echo
printf '%-10s %10s %10s %12s %12s\n' users requests "hit rate" \
    "CPU/req us" "x 10 users"

for n in $USERS; do
    printf '%-10s %10s %9s%% %12s %12s\n' "$n" \
        "$(( n < 20000 ? 40000 : n ))" "$(median < c-$n.hits)" \
        "$(median < c-$n.cpu)" "$(median < c-$n.ratio)"
done

# (d) counted: instructions and system calls per request ----------------------
#
# A copy of each gateway runs alone under callgrind, without its master;
# its counters are zeroed after a warm-up and read after COUNT_REQUESTS
# requests.  Callgrind counts the worker's own instructions, not the
# kernel's: the system calls, counted by strace on the measured gateway,
# show whether a configuration asks more of the kernel.

[ "$COUNTS" = 0 ] && exit 0

# Without the populations of (c): a gateway started here counts the
# certificates about to expire with a SCAN of the whole keyspace, at
# start and every ten minutes, which over 100,000 users would be counted
# into its first requests as if they cost it.
redis FLUSHDB > /dev/null
provision

counted_instructions() {
    local port=$(( BASE + 40 ))

    sed -e "s|^pid .*|pid $DIR/$1-cg.pid;|" \
        -e "s|listen 127.0.0.1:[0-9]* ssl|listen 127.0.0.1:$port ssl|" \
        -e "/^worker_/d" "$1.conf" > "$1-cg.conf"

    valgrind --tool=callgrind --callgrind-out-file="$DIR/cg-$1" \
        nginx -g 'daemon off; master_process off;' \
        -p "$DIR" -c "$DIR/$1-cg.conf" > "cg-$1.log" 2>&1 &
    local vg=$!

    for _ in $(seq 100); do
        curl -s -o /dev/null --cacert ca.crt --cert bench.crt \
            --key bench.key "https://127.0.0.1:$port/" && break
        sleep 0.2
    done

    local u="https://127.0.0.1:$port/api/persons/1"
    ab -q -k -c 4 -n 500 -E bench.pem "$u" > /dev/null 2>&1
    callgrind_control -z $vg > /dev/null 2>&1
    ab -q -k -c 4 -n "$COUNT_REQUESTS" -E bench.pem "$u" > "cg-$1.txt" 2>&1
    callgrind_control -d $vg > /dev/null 2>&1
    kill -QUIT $vg
    wait $vg || true

    awk -v n="$(requests cg-$1)" '/^totals:/ {t = $2} END {print t / n}' \
        "$(ls -t "$DIR"/cg-$1.* | grep -v '\.log$\|\.txt$\|\.conf$' | head -1)"
}

counted_syscalls() {
    timeout -s INT $(( SECONDS_EACH + 1 )) \
        strace -c -p "$(worker_of $1)" -o "strace-$1.txt" 2> /dev/null &
    sleep 0.5
    load $1 "$SECONDS_EACH" s-$1
    wait || true
    awk -v n="$(requests s-$1)" '$NF == "total" {print $4 / n}' \
        "strace-$1.txt"
}

echo
printf '%-26s %14s %9s %14s %9s\n' configuration "instructions" \
    "x plain" "system calls" "x plain"
printf '%-26s %14s %9s %14s %9s\n' "" "per request" "" "per request" ""

for c in $CONFIGS; do
    ins=$(counted_instructions $c)
    sys=$(counted_syscalls $c)
    [ "$c" = plain ] && { plain_ins=$ins; plain_sys=$sys; }

    awk -v l="${LABEL[$c]}" -v i="$ins" -v pi="$plain_ins" -v s="$sys" \
        -v ps="$plain_sys" \
        'BEGIN {printf "%-26s %14.0f %9.3f %14.2f %9.3f\n",
                l, i, i / pi, s, s / ps}'
done
