#!/usr/bin/env bash
# meshgate benchmark: one run measures every target, interleaved, pinned to cores.
#   proxies under test on core 0; wrk and the 100-byte upstream on core 1.
# Sections (BENCH_SECTIONS, space-separated; default "proxy"):
#   proxy     GET /plain and the policy variants through every proxy (req/s, p50/p99/p99.9, CPU µs/req)
#   uploads   1 MiB POST bodies (BENCH_UPLOAD_BYTES) through meshgate, the reference proxy, nginx, HAProxy
#   https     TLS termination: keep-alive req/s, new connections (one request each, a full handshake) per s,
#             and mTLS handshakes (a client certificate required; bench/mtls-client.js, ports BASE+11..14)
#   scaling   the route-scaling table (bench/route-scaling.js); BENCH_SCALING=1 also adds it
#   grpc      gRPC unary and HTTP/2 vs HTTP/1.1 clients (bench/grpc.sh, ports BASE+30..34); BENCH_GRPC=1 also adds it
# Env: BENCH_DURATION (s, default 10), BENCH_WARMUP (s, 3), BENCH_CONNECTIONS (50), BENCH_ROUNDS (2),
#      BENCH_TARGETS (proxy section subset), BENCH_UPLOAD_CONNECTIONS (16), BENCH_UPLOAD_BYTES (1048576),
#      BENCH_PORT_BASE (19500: ports BASE..BASE+15, route scaling BASE+20..21).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-3}
CONNS=${BENCH_CONNECTIONS:-50}
ROUNDS=${BENCH_ROUNDS:-2}
SECTIONS=" ${BENCH_SECTIONS:-proxy} "
[ "${BENCH_SCALING:-0}" = 1 ] && SECTIONS+="scaling "
has() { [[ $SECTIONS == *" $1 "* ]]; }
TARGETS=${BENCH_TARGETS:-"direct nginx haproxy reference reference-forwarding meshgate meshgate-full meshgate-resilience meshgate-jwt meshgate-ratelimit-local meshgate-ratelimit-redis meshgate-exact meshgate-regex meshgate-mesh"}
UPLOAD_TARGETS="direct nginx haproxy reference meshgate"
HTTPS_TARGETS="nginx haproxy reference meshgate"
MTLS_TARGETS="nginx reference meshgate"
UPLOAD_CONNS=${BENCH_UPLOAD_CONNECTIONS:-16}
UPLOAD_BYTES=${BENCH_UPLOAD_BYTES:-1048576}
B=${BENCH_PORT_BASE:-19500}
UP=$B; MG=$((B+1)); MGA=$((B+2)); REF=$((B+3)); NGX=$((B+4)); HAP=$((B+5))
MGS=$((B+6)); MGSA=$((B+7)); REFS=$((B+8)); NGXS=$((B+9)); HAPS=$((B+10))
MGM=$((B+11)); MGMA=$((B+12)); REFM=$((B+13)); NGXM=$((B+14)); REFF=$((B+15))
OUT=bench/results; RAW=$OUT/raw
rm -rf "$RAW"; mkdir -p "$RAW"

need wrk wrk
need nginx nginx-light
need haproxy haproxy
[ -d dist ] || npm run build >/dev/null

PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

taskset -c 1 node bench/upstream.js $UP >/dev/null & PIDS+=($!)
wait_http "http://127.0.0.1:$UP/"

TMP=$(mktemp -d)
sed "s/UPSTREAM_PORT/$UP/g" bench/policies/bench.yaml > "$TMP/bench.yaml"
TOKEN=$(node bench/jwt-fixture.js "$TMP")
# Redis for the /rl-redis route: the machine's own on 6379 (started if down, as CI does).
REDIS_URL=${BENCH_REDIS:-redis://127.0.0.1:6379}
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && [ -z "${BENCH_REDIS:-}" ]; then redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null; fi
taskset -c 0 node bin/meshgate.js serve --policies "$TMP" --port $MG --admin-port $MGA --no-watch --access-log off --ratelimit-store "$REDIS_URL" --prefix "meshgate-bench-$$" 2>"$TMP/meshgate.log" & PIDS+=($!)
MG_PID=$!
if ! wait_http "http://127.0.0.1:$MGA/ready"; then echo "meshgate did not start:"; cat "$TMP/meshgate.log"; fi

taskset -c 0 node bench/reference-proxy.js $REF $UP >/dev/null & PIDS+=($!)
REF_PID=$!
# The same bare proxy adding the forwarding headers and ids meshgate must add (DESIGN.md contract 3).
REFERENCE_FORWARDING=1 taskset -c 0 node bench/reference-proxy.js $REFF $UP >/dev/null & PIDS+=($!)
REFF_PID=$!
wait_http "http://127.0.0.1:$REF/"
wait_http "http://127.0.0.1:$REFF/"

# HTTPS: one ECDSA P-256 certificate for every TLS listener (the common choice; RSA would make
# the signature, not the proxy, the cost of a handshake).
if has https; then
  mkdir -p "$TMP/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$TMP/tls/key.pem" -out "$TMP/tls/cert.pem" 2>/dev/null
  cat "$TMP/tls/cert.pem" "$TMP/tls/key.pem" > "$TMP/tls/haproxy.pem"
  taskset -c 0 node bin/meshgate.js serve --policies "$TMP" --port $MGS --admin-port $MGSA --no-watch --access-log off --ratelimit-store "$REDIS_URL" --prefix "meshgate-bench-$$" --tls-cert "$TMP/tls/cert.pem" --tls-key "$TMP/tls/key.pem" 2>"$TMP/meshgate-tls.log" & PIDS+=($!)
  MGS_PID=$!
  if ! wait_http "http://127.0.0.1:$MGSA/ready"; then echo "meshgate (TLS) did not start:"; cat "$TMP/meshgate-tls.log"; fi
  taskset -c 0 node bench/reference-proxy.js $REFS $UP "$TMP/tls/cert.pem" "$TMP/tls/key.pem" >/dev/null & PIDS+=($!)
  REFS_PID=$!
  wait_http "https://127.0.0.1:$REFS/"
  # mTLS: a client CA and one client certificate (a SPIFFE ID, as a mesh workload's) that every
  # mTLS listener requires: meshgate --client-auth strict, the reference with requestCert and
  # rejectUnauthorized, nginx ssl_verify_client on.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=bench client CA" -keyout "$TMP/tls/ca-key.pem" -out "$TMP/tls/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=bench-client" -keyout "$TMP/tls/client-key.pem" -out "$TMP/tls/client.csr" 2>/dev/null
  printf "subjectAltName=URI:spiffe://cluster.local/ns/bench/sa/client\n" > "$TMP/tls/client.ext"
  openssl x509 -req -in "$TMP/tls/client.csr" -CA "$TMP/tls/ca.pem" -CAkey "$TMP/tls/ca-key.pem" -CAcreateserial -days 2 -extfile "$TMP/tls/client.ext" -out "$TMP/tls/client.pem" 2>/dev/null
  taskset -c 0 node bin/meshgate.js serve --policies "$TMP" --port $MGM --admin-port $MGMA --no-watch --access-log off --ratelimit-store "$REDIS_URL" --prefix "meshgate-bench-$$" --tls-cert "$TMP/tls/cert.pem" --tls-key "$TMP/tls/key.pem" --client-ca "$TMP/tls/ca.pem" --client-auth strict 2>"$TMP/meshgate-mtls.log" & PIDS+=($!)
  MGM_PID=$!
  if ! wait_http "http://127.0.0.1:$MGMA/ready"; then echo "meshgate (mTLS) did not start:"; cat "$TMP/meshgate-mtls.log"; fi
  taskset -c 0 node bench/reference-proxy.js $REFM $UP "$TMP/tls/cert.pem" "$TMP/tls/key.pem" "$TMP/tls/ca.pem" >/dev/null & PIDS+=($!)
  REFM_PID=$!
  wait_http "https://127.0.0.1:$REFM/" --cert "$TMP/tls/client.pem" --key "$TMP/tls/client-key.pem"
  NGINX_TLS="server { listen 127.0.0.1:$NGXS ssl; ssl_certificate $TMP/tls/cert.pem; ssl_certificate_key $TMP/tls/key.pem; location / { proxy_pass http://echo; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header Host \$host; } }
  server { listen 127.0.0.1:$NGXM ssl; ssl_certificate $TMP/tls/cert.pem; ssl_certificate_key $TMP/tls/key.pem; ssl_client_certificate $TMP/tls/ca.pem; ssl_verify_client on; location / { proxy_pass http://echo; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header Host \$host; } }"
  HAPROXY_TLS="  bind 127.0.0.1:$HAPS ssl crt $TMP/tls/haproxy.pem alpn http/1.1"
fi

# nginx: 1 worker, upstream keep-alive; request bodies streamed (not spooled to a temp file), as the Node proxies do.
start_nginx "$TMP/nginx" "  client_max_body_size 16m;
  proxy_request_buffering off;
  upstream echo { server 127.0.0.1:$UP; keepalive 64; }
  server {
    listen 127.0.0.1:$NGX;
    location / { proxy_pass http://echo; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header Host \$host; }
  }
  ${NGINX_TLS:-}"
wait_http "http://127.0.0.1:$NGX/"

# HAProxy: one thread, idle upstream connections reused by any client (as nginx's keepalive pool).
cat > "$TMP/haproxy.cfg" <<HAPROXY
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 65s
  timeout server 65s
  timeout http-keep-alive 65s
  http-reuse always
frontend bench
  bind 127.0.0.1:$HAP
${HAPROXY_TLS:-}
  default_backend echo
backend echo
  server echo 127.0.0.1:$UP
HAPROXY
taskset -c 0 haproxy -db -f "$TMP/haproxy.cfg" 2>"$TMP/haproxy.log" & PIDS+=($!)
HAP_PID=$!
wait_http "http://127.0.0.1:$HAP/"

# The processes whose CPU a target's requests cost (direct has no proxy).
pids_for() {
  case $1 in
    direct) echo "" ;;
    nginx) echo "$NGX_PID" ;;
    haproxy) echo "$HAP_PID" ;;
    reference-forwarding) echo "$REFF_PID" ;;
    reference) case $2 in https) echo "$REFS_PID" ;; mtls) echo "$REFM_PID" ;; *) echo "$REF_PID" ;; esac ;;
    *) case $2 in https) echo "$MGS_PID" ;; mtls) echo "$MGM_PID" ;; *) echo "$MG_PID" ;; esac ;;
  esac
}

url_for() {
  case $1 in
    direct) echo "http://127.0.0.1:$UP/plain" ;;
    nginx) echo "http://127.0.0.1:$NGX/plain" ;;
    haproxy) echo "http://127.0.0.1:$HAP/plain" ;;
    reference) echo "http://127.0.0.1:$REF/plain" ;;
    reference-forwarding) echo "http://127.0.0.1:$REFF/plain" ;;
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

tls_url_for() {
  case $1 in
    nginx) echo "https://127.0.0.1:$NGXS/plain" ;;
    haproxy) echo "https://127.0.0.1:$HAPS/plain" ;;
    reference) echo "https://127.0.0.1:$REFS/plain" ;;
    meshgate) echo "https://127.0.0.1:$MGS/plain" ;;
  esac
}

mtls_url_for() {
  case $1 in
    nginx) echo "https://127.0.0.1:$NGXM/plain" ;;
    reference) echo "https://127.0.0.1:$REFM/plain" ;;
    meshgate) echo "https://127.0.0.1:$MGM/plain" ;;
  esac
}

# bench_mtls TARGET ROUND: the handshake row with a client certificate (bench/mtls-client.js:
# wrk cannot present one), same warm-up, duration and connections.
bench_mtls() {
  local target=$1 round=$2 url; url=$(mtls_url_for "$1")
  local client=(node bench/mtls-client.js "$url" "$TMP/tls/client.pem" "$TMP/tls/client-key.pem")
  if ! curl -fsk -o /dev/null --cert "$TMP/tls/client.pem" --key "$TMP/tls/client-key.pem" "$url"; then echo "skip https-mtls-handshake $target: $url not answering" >&2; return 0; fi
  taskset -c 1 "${client[@]}" "$WARMUP" "$CONNS" >/dev/null
  echo "round $round: https-mtls-handshake $target"
  mkdir -p "$RAW/https-mtls-handshake"
  measured "$(pids_for "$target" mtls)" "${client[@]}" "$DURATION" "$CONNS" > "$RAW/https-mtls-handshake/$target-$round.txt"
}

# bench SECTION TARGET ROUND URL CONNECTIONS [WRK HEADER ARGS...]: warm-up, then the measured run
# into raw/SECTION/TARGET-ROUND.txt (wrk --latency, p99.9 from bench/wrk.lua, the proxy's CPU).
bench() {
  local section=$1 target=$2 round=$3 url=$4 conns=$5; shift 5
  local kind=http; [[ $url == https:* ]] && kind=https
  if ! curl -fsk -o /dev/null "$@" "$url"; then echo "skip $section $target: $url not answering" >&2; return 0; fi
  taskset -c 1 wrk -t1 -c"$conns" -d"${WARMUP}s" -s bench/wrk.lua "$@" "$url" >/dev/null
  echo "round $round: $section $target"
  mkdir -p "$RAW/$section"
  measured_wrk "$(pids_for "$target" "$kind")" -t1 -c"$conns" -d"${DURATION}s" --timeout 10s --latency -s bench/wrk.lua "$@" "$url" > "$RAW/$section/$target-$round.txt"
}

for round in $(seq 1 "$ROUNDS"); do
  if has proxy; then
    for t in $TARGETS; do
      # Every target gets the header the /full route matches on, so all requests are alike;
      # the JWT route also gets its token (verified once, then served from the verified-token cache).
      auth="x-bench-auth: none"
      [ "$t" = meshgate-jwt ] && auth="authorization: Bearer $TOKEN"
      host="x-bench-host: default"
      [ "$t" = meshgate-mesh ] && host="Host: echo"
      bench proxy "$t" "$round" "$(url_for "$t")" "$CONNS" -H "x-bench: 1" -H "$auth" -H "$host"
    done
  fi
  if has uploads; then
    export BENCH_BODY_BYTES=$UPLOAD_BYTES
    for t in $UPLOAD_TARGETS; do bench uploads "$t" "$round" "$(url_for "$t")" "$UPLOAD_CONNS" -H "x-bench: 1"; done
    unset BENCH_BODY_BYTES
  fi
  if has https; then
    for t in $HTTPS_TARGETS; do bench https-keepalive "$t" "$round" "$(tls_url_for "$t")" "$CONNS" -H "x-bench: 1"; done
    # One request per connection: every request is a new TCP connection and a full TLS handshake.
    for t in $HTTPS_TARGETS; do bench https-handshake "$t" "$round" "$(tls_url_for "$t")" "$CONNS" -H "x-bench: 1" -H "Connection: close"; done
    for t in $MTLS_TARGETS; do bench_mtls "$t" "$round"; done
  fi
done

echo
echo "node $(node --version), $(nproc) cores, wrk -t1 -c$CONNS -d${DURATION}s, $ROUNDS rounds (median shown)"
node bench/summarize.js "$OUT"
if has scaling; then echo; node bench/route-scaling.js "$UP" $((B+20)); fi
if has grpc || [ "${BENCH_GRPC:-0}" = 1 ]; then echo; BENCH_PORT_BASE=$((B+30)) bash bench/grpc.sh; fi
rm -rf "$TMP"
