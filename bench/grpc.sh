#!/usr/bin/env bash
# gRPC and HTTP/2 benchmark (run.sh runs it with BENCH_GRPC=1 or BENCH_SECTIONS containing grpc).
#   proxies on core 0; h2load (nghttp2-client) and the upstreams on core 1; rounds interleaved.
#   grpc        unary bench.Echo/Unary (100-byte message): direct, nginx grpc_pass, meshgate GRPCRoute
#   downstream  meshgate GET /plain (HTTP/1.1 upstream) with HTTP/2 (h2c) clients vs HTTP/1.1 clients
# Env: BENCH_DURATION (s, 10), BENCH_WARMUP (s, 2), BENCH_ROUNDS (3), BENCH_GRPC_CONNECTIONS (10),
#      BENCH_GRPC_STREAMS (10 per connection), BENCH_CONNECTIONS (50, downstream section),
#      BENCH_PORT_BASE (19530: ports BASE..BASE+4).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
ROUNDS=${BENCH_ROUNDS:-3}
GCONNS=${BENCH_GRPC_CONNECTIONS:-10}
GSTREAMS=${BENCH_GRPC_STREAMS:-10}
CONNS=${BENCH_CONNECTIONS:-50}
B=${BENCH_PORT_BASE:-19530}
GUP=$B; UP=$((B+1)); MG=$((B+2)); MGA=$((B+3)); NGX=$((B+4))
OUT=bench/results; RAW=$OUT/raw-grpc
rm -rf "$RAW"; mkdir -p "$RAW"

need h2load nghttp2-client
need nginx nginx-light
[ -d dist ] || npm run build >/dev/null

PIDS=()
TMP=$(mktemp -d)
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT

# One gRPC message: uncompressed flag, 4-byte big-endian length, 100 bytes.
node -e 'const b = Buffer.alloc(105, 120); b.writeUInt8(0, 0); b.writeUInt32BE(100, 1); require("fs").writeFileSync(process.argv[1], b)' "$TMP/call.bin"
GRPC_HEADERS=(-H "content-type: application/grpc" -H "te: trailers")

taskset -c 1 node bench/grpc-upstream.js $GUP >/dev/null & PIDS+=($!)
taskset -c 1 node bench/upstream.js $UP >/dev/null & PIDS+=($!)
wait_http "http://127.0.0.1:$UP/"

sed "s/GRPC_UPSTREAM_PORT/$GUP/; s/UPSTREAM_PORT/$UP/" bench/policies/grpc.yaml > "$TMP/grpc.yaml"
taskset -c 0 node bin/meshgate.js serve --policies "$TMP" --port $MG --admin-port $MGA --no-watch --access-log off 2>"$TMP/meshgate.log" & PIDS+=($!)
MG_PID=$!
wait_http "http://127.0.0.1:$MGA/ready" || { cat "$TMP/meshgate.log"; exit 1; }

start_nginx "$TMP/nginx" "  upstream grpc_echo { server 127.0.0.1:$GUP; keepalive 64; }
  server {
    listen 127.0.0.1:$NGX http2;
    http2_max_concurrent_streams 1000;
    # nginx ends a client connection after 1000 requests by default (GOAWAY): h2load counts the cut streams as failures.
    keepalive_requests 10000000;
    location / { grpc_pass grpc://grpc_echo; }
  }"

grpc_url() {
  case $1 in
    direct) echo "http://127.0.0.1:$GUP/bench.Echo/Unary" ;;
    nginx) echo "http://127.0.0.1:$NGX/bench.Echo/Unary" ;;
    meshgate) echo "http://127.0.0.1:$MG/bench.Echo/Unary" ;;
  esac
}
pids_for() { case $1 in nginx) echo "$NGX_PID" ;; meshgate*) echo "$MG_PID" ;; *) echo "" ;; esac; }

# A call must come back grpc-status 0 through each target, or its figures would mean nothing.
for t in direct nginx meshgate; do
  for _ in $(seq 1 50); do
    curl -s --http2-prior-knowledge -o /dev/null -D "$TMP/check-$t" --data-binary @"$TMP/call.bin" "${GRPC_HEADERS[@]}" "$(grpc_url $t)" 2>/dev/null && grep -qi "^grpc-status: 0" "$TMP/check-$t" && break
    sleep 0.1
  done
  grep -qi "^grpc-status: 0" "$TMP/check-$t" || { echo "gRPC check failed through $t:"; cat "$TMP/check-$t" 2>/dev/null; exit 1; }
done

# run SECTION TARGET ROUND H2LOAD-ARGS...: warm-up inside h2load, then the measured run, with
# "cpu_us: N" of the target's proxy process appended (from /proc, see lib.sh).
run() {
  local section=$1 target=$2 round=$3 pids before after; shift 3
  pids=$(pids_for "$target")
  mkdir -p "$RAW/$section"
  echo "round $round: $section $target"
  # shellcheck disable=SC2086
  before=$([ -n "$pids" ] && cpu_ticks $pids || echo 0)
  taskset -c 1 h2load -t1 -D "$DURATION" --warm-up-time "$WARMUP" "$@" > "$RAW/$section/$target-$round.txt" 2>&1 || true
  # shellcheck disable=SC2086
  after=$([ -n "$pids" ] && cpu_ticks $pids || echo 0)
  [ -n "$pids" ] && echo "cpu_us: $(( (after - before) * 1000000 / TICK ))" >> "$RAW/$section/$target-$round.txt"
  return 0
}

for round in $(seq 1 "$ROUNDS"); do
  for t in direct nginx meshgate; do
    run grpc "$t" "$round" -c "$GCONNS" -m "$GSTREAMS" -d "$TMP/call.bin" "${GRPC_HEADERS[@]}" "$(grpc_url $t)"
  done
  # The same route and upstream; only how the client speaks to meshgate differs (one request at a time per connection).
  run downstream meshgate-h2 "$round" -c "$CONNS" -m 1 "http://127.0.0.1:$MG/plain"
  run downstream meshgate-h1 "$round" --h1 -c "$CONNS" -m 1 "http://127.0.0.1:$MG/plain"
done

echo
echo "node $(node --version), nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), $(h2load --version | head -1), $ROUNDS rounds of ${DURATION}s (median shown)"
node bench/grpc-summarize.js "$RAW" "$WARMUP" | tee "$OUT/grpc.md"
