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
BACKEND_PORT=8081

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
    [ -f "$d/ca.crt" ] && return

    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$d/ca.key" -out "$d/ca.crt" -days 365 \
        -subj "/O=PMLP demo/CN=ir-access demo CA" 2>/dev/null

    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$d/server.ext"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$d/server.key" -out "$d/server.csr" \
        -subj "/CN=localhost" 2>/dev/null
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" \
        -CAkey "$d/ca.key" -CAcreateserial -days 365 \
        -extfile "$d/server.ext" -out "$d/server.crt" 2>/dev/null

    for user in alice bob mallory; do
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

seed() {
    redis DEL ir:org:latbank ir:org:latbank:scopes \
              ir:user:alice ir:user:alice:ips \
              ir:user:bob ir:user:bob:ips > /dev/null

    # the organisation and its contract
    redis HSET ir:org:latbank name "Demo Bank AS" contract "PMLP-2026-017" \
        status active env prod > /dev/null
    redis SADD ir:org:latbank:scopes person.basic person.address > /dev/null

    # alice: a system user of the bank's loans unit
    redis HSET ir:user:alice org latbank unit loans status active \
        cert "$(fingerprint alice)" > /dev/null
    redis SADD ir:user:alice:ips 192.0.2.10 2001:db8:10::/48 > /dev/null

    # bob: locked after failed logins, waiting for an admin
    redis HSET ir:user:bob org latbank unit cards status locked \
        cert "$(fingerprint bob)" locked_at "2026-11-27T08:00:00Z" \
        lock_reason "5 failed logins" > /dev/null
    redis SADD ir:user:bob:ips 192.0.2.11 > /dev/null
}

request() {
    # request DESCRIPTION CLIENT-ADDRESS CERT [curl options...]
    local what=$1 addr=$2 cert=$3
    shift 3

    local args=(-s -o "$DEMO/body" -w '%{http_code}'
                --cacert "$DEMO/pki/ca.crt" -H "X-Forwarded-For: $addr")
    if [ "$cert" != - ]; then
        args+=(--cert "$DEMO/pki/$cert.crt" --key "$DEMO/pki/$cert.key")
    fi

    local status
    status=$(curl "${args[@]}" "$@" \
             "https://127.0.0.1:$NGINX_PORT/api/persons/010190-12345")

    printf '\n== %s\n' "$what"
    [ "$cert" = - ] && cert="(none)" || cert="$cert.crt"
    printf '   certificate %s, from %s -> %s %s\n' "$cert" "$addr" \
        "$status" "$(head -c 100 "$DEMO/body")"
}

start() {
    stop > /dev/null

    mkdir -p "$DEMO/logs"
    pki

    # Redis
    redis-server --port $REDIS_PORT --bind 127.0.0.1 --save "" \
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
        -e "s#worker_processes auto#worker_processes 2#" \
        "$ROOT/conf.example" > "$DEMO/nginx.conf"
    nginx -p "$DEMO" -c "$DEMO/nginx.conf"
    sleep 0.3

    cat <<EOF
ir-access demo
  Redis            127.0.0.1:$REDIS_PORT   (redis-cli -p $REDIS_PORT)
  register stub    127.0.0.1:$BACKEND_PORT
  gateway (nginx)  https://127.0.0.1:$NGINX_PORT  with conf.example
  certificates     $DEMO/pki
  error log        $DEMO/logs/ir-access-error.log
The client address is set with X-Forwarded-For, as the trusted load
balancer in conf.example would set it.
EOF

    request "alice, from her allowlisted address: allowed" 192.0.2.10 alice
    request "alice, from an IPv6 address in her allowlisted prefix: allowed" \
        2001:db8:10::7 alice
    request "no client certificate: cert_required" 192.0.2.10 -
    request "alice's certificate from an address not on her allowlist" \
        198.51.100.7 alice
    request "mallory: a valid certificate, but no user record" \
        192.0.2.10 mallory
    request "bob: locked after failed logins" 192.0.2.11 bob

    printf '\n== an administrator unlocks bob:\n'
    printf '   redis-cli HSET ir:user:bob status active\n'
    redis HSET ir:user:bob status active > /dev/null
    request "bob, after the unlock: allowed" 192.0.2.11 bob

    printf '\n== what the operator reads in the error log:\n'
    grep 'ir_access: denied' "$DEMO/logs/ir-access-error.log" \
        | sed -e 's/^[^]]*\] [0-9#]*: \*[0-9]* /   /' -e 's/, client:.*//'

    printf '\n== the access log keeps every decision:\n'
    tail -n 3 "$DEMO/logs/ir-access.log" | sed 's/^/   /'

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
