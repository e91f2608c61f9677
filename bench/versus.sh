#!/usr/bin/env bash
# meshgate against an earlier build of itself in one run, same pinning: what a change costs.
#   proxies on core 0, wrk and the 100-byte upstream on core 1; routes /plain and /resilient of
#   each version's own bench/policies/bench.yaml; rounds interleaved so drift hits both alike.
# Env: BENCH_BASE (git revision; default 4ef69d1, the release before the security-hardening and
#      resilience work), BENCH_DURATION (s, 5), BENCH_ROUNDS (3), BENCH_CONNECTIONS (50),
#      BENCH_PORT_BASE (19600: ports BASE..BASE+4).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
BASE=${BENCH_BASE:-4ef69d1}
DURATION=${BENCH_DURATION:-5}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNECTIONS:-50}
B=${BENCH_PORT_BASE:-19600}
UP=$B; CUR=$((B+1)); CURA=$((B+2)); OLD=$((B+3)); OLDA=$((B+4))
need wrk wrk
[ -d dist ] || npm run build >/dev/null

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  git worktree remove --force "$WORK/base" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "building $BASE in a temporary worktree"
git worktree add --detach "$WORK/base" "$BASE" >/dev/null 2>&1
# Some revisions tracked a node_modules symlink by mistake: npm ci would empty its target.
[ -L "$WORK/base/node_modules" ] && rm "$WORK/base/node_modules"
(cd "$WORK/base" && npm ci --no-audit --no-fund --ignore-scripts >/dev/null 2>&1 && npx tsc -p tsconfig.build.json)

taskset -c 1 node bench/upstream.js $UP >/dev/null & PIDS+=($!)
wait_http "http://127.0.0.1:$UP/"

start() { # dir port admin-port
  local dir=$1 policies=$WORK/policies-$2
  mkdir -p "$policies"
  sed "s/UPSTREAM_PORT/$UP/g" "$dir/bench/policies/bench.yaml" > "$policies/bench.yaml"
  (cd "$dir" && node bench/jwt-fixture.js "$policies" >/dev/null)
  (cd "$dir" && exec taskset -c 0 node bin/meshgate.js serve --policies "$policies" --port "$2" --admin-port "$3" --no-watch --access-log off 2>"$WORK/log-$2") & PIDS+=($!)
  wait_http "http://127.0.0.1:$3/ready" || { cat "$WORK/log-$2"; exit 1; }
}
start "$PWD" $CUR $CURA
CUR_PID=${PIDS[-1]}
start "$WORK/base" $OLD $OLDA
OLD_PID=${PIDS[-1]}

RESULTS=$WORK/results.txt
measure() { # label pid url
  local out rps reqs cpu
  out=$(measured_wrk "$2" -t1 -c"$CONNS" -d"${DURATION}s" "$3")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  cpu=$(echo "$out" | awk '/^cpu_us:/ {print $2}')
  echo "$1 $rps $cpu $reqs" >> "$RESULTS"
}

for url in "http://127.0.0.1:PORT/plain" "http://127.0.0.1:PORT/resilient"; do
  route=${url##*/}
  # warm both up first (JIT, pools)
  taskset -c 1 wrk -t1 -c"$CONNS" -d2s "${url/PORT/$CUR}" >/dev/null
  taskset -c 1 wrk -t1 -c"$CONNS" -d2s "${url/PORT/$OLD}" >/dev/null
  for _ in $(seq 1 "$ROUNDS"); do
    measure "current:$route" "$CUR_PID" "${url/PORT/$CUR}"
    measure "base:$route" "$OLD_PID" "${url/PORT/$OLD}"
  done
done

node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split(" "));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const stat = (label) => { const rows = lines.filter((l) => l[0] === label); return { rps: median(rows.map((r) => Number(r[1]))), cpu: median(rows.map((r) => Number(r[2]) / Number(r[3]))) }; };
console.log(`meshgate vs ${process.argv[2]}: median of ${process.argv[3]} interleaved rounds`);
console.log("| route | current req/s | base req/s | ratio | current CPU µs/req | base CPU µs/req | ratio |");
console.log("|---|---|---|---|---|---|---|");
for (const route of ["plain", "resilient"]) {
  const c = stat(`current:${route}`), b = stat(`base:${route}`);
  console.log(`| /${route} | ${c.rps.toFixed(0)} | ${b.rps.toFixed(0)} | ${(c.rps / b.rps).toFixed(3)} | ${c.cpu.toFixed(1)} | ${b.cpu.toFixed(1)} | ${(c.cpu / b.cpu).toFixed(3)} |`);
}
' "$RESULTS" "$BASE" "$ROUNDS"
