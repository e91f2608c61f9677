#!/usr/bin/env bash
# meshgate benchmark: one run measures every target, interleaved, pinned to cores.
#   proxy under test on core 0; wrk and the 100-byte upstream on core 1.
# Env: BENCH_DURATION (s, default 10), BENCH_WARMUP (s, 3), BENCH_CONNECTIONS (50), BENCH_ROUNDS (2),
#      BENCH_TARGETS (default: all), BENCH_PORT_BASE (19500: ports BASE..BASE+4, route scaling BASE+20..21).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-3}
CONNS=${BENCH_CONNECTIONS:-50}
ROUNDS=${BENCH_ROUNDS:-2}
TARGETS=${BENCH_TARGETS:-"direct nginx reference meshgate meshgate-full meshgate-resilience meshgate-jwt meshgate-ratelimit-local meshgate-ratelimit-redis meshgate-exact meshgate-regex meshgate-mesh"}
B=${BENCH_PORT_BASE:-19500}
UP=$B; MG=$((B+1)); MGA=$((B+2)); REF=$((B+3)); NGX=$((B+4))
OUT=bench/results; RAW=$OUT/raw
mkdir -p "$RAW"; rm -f "$RAW"/*.txt

need() { command -v "$1" >/dev/null || { echo "installing $2 from Debian"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
need wrk wrk
need nginx nginx-light
[ -d dist ] || npm run build >/dev/null

PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_http() { for _ in $(seq 1 100); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done; echo "not ready: $1" >&2; return 1; }

taskset -c 1 node bench/upstream.js $UP >/dev/null & PIDS+=($!)
wait_http "http://127.0.0.1:$UP/"

TMP=$(mktemp -d)
sed "s/UPSTREAM_PORT/$UP/g" bench/policies/bench.yaml > "$TMP/bench.yaml"
TOKEN=$(node bench/jwt-fixture.js "$TMP")
# Redis for the /rl-redis route: the machine's own on 6379 (started if down, as CI does).
REDIS_URL=${BENCH_REDIS:-redis://127.0.0.1:6379}
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && [ -z "${BENCH_REDIS:-}" ]; then redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null; fi
taskset -c 0 node bin/meshgate.js serve --policies "$TMP" --port $MG --admin-port $MGA --no-watch --access-log off --ratelimit-store "$REDIS_URL" --prefix "meshgate-bench-$$" 2>"$TMP/meshgate.log" & PIDS+=($!)
if ! wait_http "http://127.0.0.1:$MGA/ready"; then echo "meshgate did not start:"; cat "$TMP/meshgate.log"; fi

taskset -c 0 node bench/reference-proxy.js $REF $UP >/dev/null & PIDS+=($!)
wait_http "http://127.0.0.1:$REF/"

mkdir -p "$TMP/nginx/logs"
cat > "$TMP/nginx/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
error_log $TMP/nginx/logs/error.log warn;
pid $TMP/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  upstream echo { server 127.0.0.1:$UP; keepalive 64; }
  server {
    listen 127.0.0.1:$NGX;
    location / { proxy_pass http://echo; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host \$host; }
  }
}
NGINX
taskset -c 0 nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" & PIDS+=($!)
wait_http "http://127.0.0.1:$NGX/"

url_for() {
  case $1 in
    direct) echo "http://127.0.0.1:$UP/plain" ;;
    nginx) echo "http://127.0.0.1:$NGX/plain" ;;
    reference) echo "http://127.0.0.1:$REF/plain" ;;
    meshgate) echo "http://127.0.0.1:$MG/plain" ;;
    meshgate-full) echo "http://127.0.0.1:$MG/full" ;;
    meshgate-resilience) echo "http://127.0.0.1:$MG/resilient" ;;
    meshgate-jwt) echo "http://127.0.0.1:$MG/jwt" ;;
    meshgate-ratelimit-local) echo "http://127.0.0.1:$MG/rl-local" ;;
    meshgate-ratelimit-redis) echo "http://127.0.0.1:$MG/rl-redis" ;;
    meshgate-exact) echo "http://127.0.0.1:$MG/exact/orders/42" ;;
    meshgate-regex) echo "http://127.0.0.1:$MG/regex/orders/42" ;;
    # Host "echo" names Service echo (it has a Backend) and no mesh route claims it: the mesh default route.
    meshgate-mesh) echo "http://127.0.0.1:$MG/plain" ;;
  esac
}

for round in $(seq 1 "$ROUNDS"); do
  for t in $TARGETS; do
    url=$(url_for "$t")
    # Every target gets the header the /full route matches on, so all requests are alike;
    # the JWT route also gets its token (verified once, then served from the verified-token cache).
    auth="x-bench-auth: none"
    [ "$t" = meshgate-jwt ] && auth="authorization: Bearer $TOKEN"
    host="x-bench-host: default"
    [ "$t" = meshgate-mesh ] && host="Host: echo"
    if ! curl -fs -o /dev/null -H "x-bench: 1" -H "$auth" -H "$host" "$url"; then echo "skip $t: $url not answering" >&2; continue; fi
    taskset -c 1 wrk -t1 -c"$CONNS" -d"${WARMUP}s" -H "x-bench: 1" -H "$auth" -H "$host" "$url" >/dev/null
    echo "round $round: $t"
    taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -H "x-bench: 1" -H "$auth" -H "$host" "$url" > "$RAW/$t-$round.txt"
  done
done

echo
echo "node $(node --version), $(nproc) cores, wrk -t1 -c$CONNS -d${DURATION}s, $ROUNDS rounds (median shown)"
node bench/summarize.js "$OUT"
# BENCH_SCALING=1: the route-scaling table (10 / 1,000 / 10,000 routes by hostname and by prefix).
if [ "${BENCH_SCALING:-0}" = 1 ]; then echo; node bench/route-scaling.js "$UP" $((B+20)); fi
rm -rf "$TMP"
