#!/bin/bash
# Do bcrypt logins stall the worker?  One nginx worker serves plain mTLS
# requests to an unguarded location, alone and then while clients log in
# with bcrypt passwords: through ir-access (hashes checked in a thread
# pool), and, for contrast, through nginx's own auth_basic with the same
# hash (checked in the event loop).  Run by hand: bash bench/password.sh

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODULE=$ROOT/build/ngx_http_ir_access_module.so
DIR=$(mktemp -d /tmp/ir-bench-pw-XXXXXX)
chmod 755 "$DIR"
SECONDS_EACH=${SECONDS_EACH:-8}
COST=${COST:-10}

REDIS_PORT=$(( 20000 + RANDOM % 10000 ))
PORT=$(( REDIS_PORT + 1 ))

cleanup() {
    [ -s "$DIR/nginx.pid" ] && kill -QUIT "$(cat "$DIR/nginx.pid")" 2>/dev/null
    redis-cli -p $REDIS_PORT shutdown nosave > /dev/null 2>&1 || true
    sleep 0.2
    rm -rf "$DIR"
}
[ -n "${KEEP:-}" ] || trap cleanup EXIT

cd "$DIR"

# PKI
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca.key -out ca.crt -days 2 -subj /CN=bench-ca 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > server.ext
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -days 2 -extfile server.ext -out server.crt 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout bench.key -out bench.csr -subj /CN=bench 2>/dev/null
openssl x509 -req -in bench.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -days 2 -out bench.crt 2>/dev/null
cat bench.crt bench.key > bench.pem

HASH=$(htpasswd -nbB -C "$COST" bench secret | cut -d: -f2)
printf 'bench:%s\n' "$HASH" > htpasswd

redis-server --port $REDIS_PORT --bind 127.0.0.1 --save "" --daemonize yes \
    --logfile "$DIR/redis.log" > /dev/null
sleep 0.3
redis-cli -p $REDIS_PORT HSET ir:org:bank name Bench > /dev/null
redis-cli -p $REDIS_PORT HSET ir:user:bench org bank password "$HASH" \
    cert "$(openssl x509 -in bench.crt -noout -fingerprint -sha256 | cut -d= -f2)" \
    > /dev/null
redis-cli -p $REDIS_PORT SADD ir:user:bench:ips 127.0.0.1 > /dev/null

mkdir -p logs tmp www
# static files: "return" would answer before the access phase
for f in plain login remembered auth_basic; do echo "$f" > www/$f; done
cat > nginx.conf <<EOF
load_module $MODULE;
worker_processes 1;
worker_cpu_affinity 01;
pid $DIR/nginx.pid;
error_log $DIR/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $DIR/tmp;
    ir_access_redis 127.0.0.1:$REDIS_PORT;
    server {
        listen 127.0.0.1:$PORT ssl;
        ssl_certificate $DIR/server.crt;
        ssl_certificate_key $DIR/server.key;
        ssl_client_certificate $DIR/ca.crt;
        ssl_verify_client on;
        root $DIR/www;
        default_type text/plain;
        location /plain { }
        location /login {
            # every login hashed: what the thread pool spares the worker
            ir_access on;
            ir_access_password on;
            ir_access_password_remember off;
            ir_access_lockout off;
        }
        location /remembered {
            ir_access on;
            ir_access_password on;
            ir_access_lockout off;
        }
        location /auth_basic {
            auth_basic "bench";
            auth_basic_user_file $DIR/htpasswd;
        }
    }
}
EOF
nginx -p "$DIR" -c "$DIR/nginx.conf"
sleep 0.3

url="https://127.0.0.1:$PORT"

plain() {
    # prints: requests/s, median ms, 99th percentile ms
    taskset -c 1 ab -q -k -c 4 -t "$SECONDS_EACH" -n 10000000 -E bench.pem \
        "$url/plain" 2>/dev/null \
        | awk '/Requests per second/ {rps=$4}
               /^  50%/ {p50=$2} /^  99%/ {p99=$2}
               END {printf "%8.0f %8s %8s", rps, p50, p99}'
}

logins() {
    taskset -c 1 ab -q -k -c 8 -t $(( SECONDS_EACH + 2 )) -n 10000000 \
        -E bench.pem -A bench:secret "$url/$1" > "$DIR/logins-$1.txt" 2>&1 &
    sleep 1
}

login_rate() {
    awk '/Requests per second/ {printf "%.0f", $4}' "$DIR/logins-$1.txt"
}

echo "one nginx worker on CPU 0; load generators on CPU 1; bcrypt cost $COST"
echo
printf '%-44s %8s %8s %8s %10s\n' "plain mTLS requests (ab -k -c 4)" \
    "req/s" "p50 ms" "p99 ms" "logins/s"

printf '%-44s %s\n' "alone" "$(plain)"

logins login
result=$(plain)
wait
printf '%-44s %s %10s\n' "during ir-access bcrypt logins (-c 8)" "$result" \
    "$(login_rate login)"

logins remembered
result=$(plain)
wait
printf '%-44s %s %10s\n' "during remembered ir-access logins (-c 8)" \
    "$result" "$(login_rate remembered)"

logins auth_basic
result=$(plain)
wait
printf '%-44s %s %10s\n' "during nginx auth_basic bcrypt logins (-c 8)" \
    "$result" "$(login_rate auth_basic)"
