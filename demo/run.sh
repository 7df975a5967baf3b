#!/bin/bash
# ir-access demo: a Redis, a stand-in register backend and nginx with
# conf.example on loopback, two seeded users, and a walk through allowed
# and denied requests.  "make demo-stop" stops all of it.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEMO=$ROOT/build/demo
MODULE=$ROOT/build/ngx_http_ir_access_module.so

REDIS_PORT=16379
NGINX_PORT=8443
NGINX_TEST_PORT=8444
METRICS_PORT=9145
BACKEND_PORT=8081
GEOIP_DB=$ROOT/build/geoip/node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb

redis() { redis-cli -p $REDIS_PORT "$@"; }

stop() {
    local stopped=""

    for pidfile in "$DEMO/nginx.pid" "$DEMO/backend.pid" "$DEMO/redis.pid"; do
        if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            kill -QUIT "$(cat "$pidfile")" 2>/dev/null || true
            stopped="$stopped $(basename "$pidfile" .pid)"
        fi
        rm -f "$pidfile"
    done

    echo "demo stopped:${stopped:- nothing was running}"
}

pki() {
    local d=$DEMO/pki
    mkdir -p "$d"

    [ -f "$d/ca.crt" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$d/ca.key" -out "$d/ca.crt" -days 365 \
        -subj "/O=PMLP demo/CN=ir-access demo CA" 2>/dev/null

    [ -f "$d/server.crt" ] || {
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$d/server.ext"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$d/server.key" -out "$d/server.csr" \
        -subj "/CN=localhost" 2>/dev/null
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" \
        -CAkey "$d/ca.key" -CAcreateserial -days 365 \
        -extfile "$d/server.ext" -out "$d/server.crt" 2>/dev/null
    }

    for user in alice bob carol mallory; do
        [ -f "$d/$user.crt" ] && continue
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
            -nodes -keyout "$d/$user.key" -out "$d/$user.csr" \
            -subj "/O=Demo Bank/CN=$user" 2>/dev/null
        openssl x509 -req -in "$d/$user.csr" -CA "$d/ca.crt" \
            -CAkey "$d/ca.key" -CAcreateserial -days 365 \
            -out "$d/$user.crt" 2>/dev/null
    done
}

fingerprint() {
    openssl x509 -in "$DEMO/pki/$1.crt" -noout -fingerprint -sha256 \
        | sed 's/.*=//'
}

hash() {
    # bcrypt, as PMLP hands passwords out: htpasswd -nbB user password
    htpasswd -nbB -C 8 x "$1" | cut -d: -f2
}

seed() {
    redis FLUSHDB > /dev/null

    # a bank with a production contract for basic data and addresses
    redis HSET ir:org:latbank name "Demo Bank AS" contract "PMLP-2026-017" \
        status active env prod valid_from 2026-01-01 valid_to 2028-12-31 \
        > /dev/null
    redis SADD ir:org:latbank:scopes person.basic person.address > /dev/null

    # a municipality still integrating: a test-only contract, basic data
    redis HSET ir:org:rigamuni name "Demo Municipality" \
        contract "PMLP-2026-042" status active env test > /dev/null
    redis SADD ir:org:rigamuni:scopes person.basic > /dev/null

    # alice: a system user of the bank's loans unit
    redis HSET ir:user:alice org latbank unit loans status active \
        cert "$(fingerprint alice)" password "$(hash alice-pw)" > /dev/null
    redis SADD ir:user:alice:ips 85.254.12.0/24 2001:4860::/32 > /dev/null

    # bob: locked after failed logins, waiting for an admin
    redis HSET ir:user:bob org latbank unit cards status locked \
        cert "$(fingerprint bob)" password "$(hash bob-pw)" \
        locked_at "2026-11-27T08:00:00Z" \
        lock_reason "5 failed logins (wrong password)" > /dev/null
    redis SADD ir:user:bob:ips 85.254.12.35 > /dev/null

    # carol: the municipality's integration user
    redis HSET ir:user:carol org rigamuni unit it status active \
        cert "$(fingerprint carol)" password "$(hash carol-pw)" > /dev/null
    redis SADD ir:user:carol:ips 85.254.20.5 > /dev/null
}

request() {
    # request DESCRIPTION CLIENT-ADDRESS CERT [PATH [PORT [PASSWORD [HEADER]]]]
    local what=$1 addr=$2 cert=$3
    local path=${4:-/api/persons/010190-12345} port=${5:-$NGINX_PORT}
    local password=${6:-$cert-pw} header=${7:-}

    # conf.example takes the client's address from the PROXY protocol
    # header of the load balancer (127.0.0.1); here the client sends it
    # itself, as the load balancer would for a client at that address.
    local args=(--from "$addr" -s -o "$DEMO/body" -w '%{http_code}'
                --cacert "$DEMO/pki/ca.crt")
    [ -z "$header" ] || args+=(-H "$header")
    if [ "$cert" != - ]; then
        args+=(--cert "$DEMO/pki/$cert.crt" --key "$DEMO/pki/$cert.key"
               -u "$cert:$password")
    fi

    local status
    status=$("$ROOT/tools/proxy-curl" "${args[@]}" \
             "https://127.0.0.1:$port$path") || true

    printf '\n== %s\n' "$what"
    local label="(none)"
    if [ "$cert" != - ]; then
        label="$cert.crt"
        [ "$password" = "$cert-pw" ] || label="$label, password \"$password\""
        [ -z "$header" ] || label="$label, \"$header\""
    fi
    printf '   certificate %s, from %s -> %s %s\n' "$label" "$addr" \
        "$status" "$(head -c 100 "$DEMO/body")"
}

start() {
    stop > /dev/null

    rm -rf "$DEMO/logs"
    mkdir -p "$DEMO/logs"
    pki

    if [ ! -f "$GEOIP_DB" ]; then
        echo "no country database at $GEOIP_DB: run make geoip-db" >&2
        exit 1
    fi

    # Redis
    redis-server --port $REDIS_PORT --bind 127.0.0.1 --save "" \
        --notify-keyspace-events KA \
        --appendonly no --daemonize yes --pidfile "$DEMO/redis.pid" \
        --logfile "$DEMO/logs/redis.log" --dir "$DEMO"
    for _ in $(seq 50); do redis PING > /dev/null 2>&1 && break; sleep 0.1; done

    seed

    # the stand-in register backend
    sed -e "s#__DEMO__#$DEMO#g" -e "s#__ROOT__#$ROOT#g" \
        -e "s#__BACKEND_PORT__#$BACKEND_PORT#g" \
        "$ROOT/demo/backend.conf" > "$DEMO/backend.conf"
    nginx -p "$DEMO" -c "$DEMO/backend.conf"

    # the gateway: conf.example with the demo's paths and ports
    sed -e "s#/usr/lib/nginx/modules/ngx_http_ir_access_module.so#$MODULE#" \
        -e "s#/etc/nginx/ir-access#$DEMO/pki#g" \
        -e "s#/run/ir-access-nginx.pid#$DEMO/nginx.pid#" \
        -e "s#/var/log/nginx#$DEMO/logs#g" \
        -e "s#127.0.0.1:6379#127.0.0.1:$REDIS_PORT#" \
        -e "s#127.0.0.1:8081#127.0.0.1:$BACKEND_PORT#" \
        -e "s#127.0.0.1:8443#127.0.0.1:$NGINX_PORT#" \
        -e "s#127.0.0.1:8444#127.0.0.1:$NGINX_TEST_PORT#" \
        -e "s#127.0.0.1:9145#127.0.0.1:$METRICS_PORT#" \
        -e "s#/usr/share/ir-access/geo-whois-asn-country.mmdb#$GEOIP_DB#" \
        -e "s#worker_processes auto#worker_processes 2#" \
        "$ROOT/conf.example" > "$DEMO/nginx.conf"
    nginx -p "$DEMO" -c "$DEMO/nginx.conf"
    sleep 0.3

    cat <<EOF
ir-access demo
  Redis            127.0.0.1:$REDIS_PORT   (redis-cli -p $REDIS_PORT)
  register stub    127.0.0.1:$BACKEND_PORT
  gateway (nginx)  https://127.0.0.1:$NGINX_PORT (production),
                   https://127.0.0.1:$NGINX_TEST_PORT (test), with conf.example
  metrics          http://127.0.0.1:$METRICS_PORT/metrics
  certificates     $DEMO/pki
  error log        $DEMO/logs/ir-access-error.log
The client's address comes in a PROXY protocol header, as the TCP load
balancer in front of conf.example's gateway would send it: the demo's
client (tools/proxy-curl) sends it itself, from 127.0.0.1, the address
conf.example trusts as its load balancer.  Headers such as X-Forwarded-For
name no address.
EOF

    request "alice (bank, production contract), from her allowlisted address in Latvia: allowed" \
        85.254.12.34 alice
    request "alice reads an address: her contract has person.address: allowed" \
        85.254.12.34 alice /api/addresses/010190-12345
    request "no client certificate: cert_required" 85.254.12.34 -
    request "alice's certificate from an address not on her allowlist" \
        85.254.99.1 alice
    request "the same, naming her allowlisted address in a header: no header names the client" \
        85.254.99.1 alice /api/persons/010190-12345 $NGINX_PORT alice-pw \
        "X-Forwarded-For: 85.254.12.34"
    request "alice from an IPv6 address on her allowlist, but in the US: country_not_allowed" \
        2001:4860::8888 alice
    request "mallory: a valid certificate, but no user record" \
        85.254.12.34 mallory
    request "bob: locked after failed logins" 85.254.12.35 bob

    printf '\n== an administrator unlocks bob:\n'
    printf '   redis-cli HSET ir:user:bob status active\n'
    redis HSET ir:user:bob status active > /dev/null
    request "bob, after the unlock: allowed" 85.254.12.35 bob

    request "carol (municipality, test-only contract) on production: env_mismatch" \
        85.254.20.5 carol
    request "carol on the test environment: allowed" \
        85.254.20.5 carol /api/persons/010190-12345 $NGINX_TEST_PORT
    request "carol reads an address: her contract has person.basic only: scope_denied" \
        85.254.20.5 carol /api/addresses/010190-12345 $NGINX_TEST_PORT

    printf '\n== an administrator moves the municipality to production and grants addresses:\n'
    printf '   redis-cli HSET ir:org:rigamuni env prod\n'
    printf '   redis-cli SADD ir:org:rigamuni:scopes person.address\n'
    redis HSET ir:org:rigamuni env prod > /dev/null
    redis SADD ir:org:rigamuni:scopes person.address > /dev/null
    request "carol reads an address on production: allowed" \
        85.254.20.5 carol /api/addresses/010190-12345

    printf '\n== someone with alice'"'"'s certificate guesses her password:\n'
    for i in 1 2 3 4 5; do
        request "wrong password, attempt $i of 5: bad_password" \
            85.254.12.34 alice /api/persons/010190-12345 $NGINX_PORT guess$i
    done
    request "alice, now with the right password: account_locked" \
        85.254.12.34 alice
    printf '\n== what the lock left in Redis (redis-cli HMGET ir:user:alice status locked_at lock_reason):\n'
    redis HMGET ir:user:alice status locked_at lock_reason \
        | paste -d' ' <(printf 'status\nlocked_at\nlock_reason\n') - \
        | sed 's/^/   /'
    printf '\n== the administrator checks with the organisation and unlocks:\n'
    printf '   redis-cli HSET ir:user:alice status active\n'
    redis HSET ir:user:alice status active > /dev/null
    request "alice after the unlock: allowed" 85.254.12.34 alice

    printf '\n== what the operator reads in the error log:\n'
    grep -E 'ir_access: (denied|user .* locked)' \
        "$DEMO/logs/ir-access-error.log" \
        | sed -e 's/^[^]]*\] [0-9#]*: \(\*[0-9]* \)\{0,1\}/   /' \
              -e 's/, client:.*//'

    printf '\n== the access log keeps every decision:\n'
    tail -n 3 "$DEMO/logs/ir-access.log" | sed 's/^/   /'

    sleep 0.3
    printf '\n== the audit trail in Redis (redis-cli XREVRANGE ir:audit + - COUNT 3):\n'
    redis XREVRANGE ir:audit + - COUNT 3 | paste -sd' ' \
        | sed -e 's/ \([0-9]*-[0-9]*\) /\n   \1 /g' -e 's/^/   /'
    printf '\n   and the events (locks, admins'"'"' edits) among %s entries:\n' \
        "$(redis XLEN ir:audit)"
    redis XRANGE ir:audit - + | paste -sd' ' \
        | grep -o 'event [a-z_]* [a-z]* [^ ]*' | sort | uniq -c \
        | sed 's/^/   /'

    printf '\n== the metrics (curl http://127.0.0.1:%s/metrics):\n' $METRICS_PORT
    curl -s "http://127.0.0.1:$METRICS_PORT/metrics" \
        | grep -E '^ir_access_(requests_total.* [1-9]|cache_hits|cache_misses|audit_written|locks)' \
        | sed 's/^/   /'

    cat <<EOF

Running: redis-server (pid $(cat "$DEMO/redis.pid")), backend nginx (pid $(cat "$DEMO/backend.pid")), gateway nginx (pid $(cat "$DEMO/nginx.pid")).
Stop them all with: make demo-stop
EOF
}

case "${1:-start}" in
    start) start ;;
    stop)  stop ;;
    *)     echo "usage: $0 start|stop" >&2; exit 1 ;;
esac
