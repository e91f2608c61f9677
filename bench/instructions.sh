#!/usr/bin/env bash
# Instructions per request, counted by valgrind's callgrind: repeatable to ~3% whatever else the
# machine runs (wrk's CPU µs per request moves 3x on a loaded box), so a change to the hot path
# can be judged while other work shares the cores. Slow (~70 s per target): a measuring tool,
# not part of `npm run bench`.
#   Each target runs under `node --single-threaded` (GC and JIT compilation on the measured
#   thread, so they are counted and can be split out), gets BENCH_WARM requests (h2load, 10
#   connections) with counting off, then BENCH_COUNT counted requests.
# Usage: bash bench/instructions.sh [TARGET...]   TARGET: reference | reference-forwarding |
#   meshgate[:PATH] (default `reference reference-forwarding meshgate:/plain`; PATH is a route of
#   bench/policies/bench.yaml, e.g. meshgate:/full; reference-forwarding is the reference proxy
#   adding the forwarding headers and ids DESIGN.md contract 3 asks of meshgate)
# Env: BENCH_WARM (12000), BENCH_COUNT (3000), BENCH_PORT_BASE (19700: ports BASE..BASE+2),
#   BENCH_KEEP (a directory: keep each profile there, for callgrind_annotate),
#   BENCH_BODY_BYTES (each request a POST with a body of that many bytes, e.g. 1048576 with
#   BENCH_WARM=600 BENCH_COUNT=200: instructions per upload)
# Prints per target: all instructions / request, and the same without V8's GC and compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
need valgrind valgrind
need h2load nghttp2-client
[ -d dist ] || npm run build >/dev/null
WARM=${BENCH_WARM:-12000}
COUNT=${BENCH_COUNT:-3000}
B=${BENCH_PORT_BASE:-19700}
UP=$B; PX=$((B+1)); ADMIN=$((B+2))
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(reference reference-forwarding meshgate:/plain)

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

node bench/upstream.js $UP >/dev/null & PIDS+=($!)
wait_http "http://127.0.0.1:$UP/"
sed "s/UPSTREAM_PORT/$UP/g" bench/policies/bench.yaml > "$WORK/bench.yaml"
TOKEN=$(node bench/jwt-fixture.js "$WORK")
BODY=()
if [ -n "${BENCH_BODY_BYTES:-}" ]; then
  head -c "$BENCH_BODY_BYTES" /dev/zero | tr '\0' x > "$WORK/body"
  BODY=(-d "$WORK/body" -H "content-type: application/octet-stream")
fi

# V8 housekeeping rather than this request's work: the garbage collector (its functions' own
# instructions, wherever they run: a major GC's incremental marking happens inside allocations)
# and the optimizing compilers (everything under their entry points; they keep tiering functions
# up long after any warm-up). Whether a major GC falls inside the counted window is luck, so
# compare the figures without them and read the GC column as a hint only.
GC_SYMBOLS='Heap::|Heap[A-Z]|Marking|Sweep|Scaveng|Evacuat|MarkCompact|RecordMigratedSlot|BodyDescriptor|SizeFromMap|heap::base::|FreeList|MemoryChunk|SlotSet|RememberedSet|MemoryAllocator|PagedSpace|NewSpace|SemiSpace|LargeObjectSpace|GlobalHandles|popcount|ActiveSystemPages|MainAllocator|LinearAllocationArea|Worklist|ArrayBufferSweeper'
JIT_FRAMES='Compiler::Compile|PipelineImpl::|MaglevCompiler::Compile|BaselineBatchCompiler::|Compiler::FinalizeTurbofanCompilationJob'
gc_instructions() { # exclusive instructions of GC functions in the profile
  callgrind_annotate --threshold=100 "$WORK/cg.out" 2>/dev/null | grep -E "$GC_SYMBOLS" \
    | awk '{gsub(",", "", $1); if ($1 ~ /^[0-9]+$/) s += $1} END {print s + 0}'
}
jit_instructions() { # the largest inclusive count among compiler entry points (they nest)
  callgrind_annotate --inclusive=yes --threshold=100 "$WORK/cg.out" 2>/dev/null | grep -E "$JIT_FRAMES" \
    | awk '{gsub(",", "", $1); if ($1 ~ /^[0-9]+$/ && $1 + 0 > m) m = $1 + 0} END {print m + 0}'
}

count() { # target
  local target=$1 path=/plain url ready pid out forwarding=0
  local cmd=(node --single-threaded)
  if [[ $target == reference* ]]; then
    [ "$target" = reference-forwarding ] && forwarding=1
    cmd+=(bench/reference-proxy.js $PX $UP); ready="http://127.0.0.1:$PX/"
  else
    [[ $target == meshgate:* ]] && path=${target#meshgate:}
    cmd+=(bin/meshgate.js serve --policies "$WORK" --port $PX --admin-port $ADMIN --no-watch --access-log off); ready="http://127.0.0.1:$ADMIN/ready"
  fi
  url="http://127.0.0.1:$PX$path"
  REFERENCE_FORWARDING=$forwarding valgrind --tool=callgrind --smc-check=all-non-file --instr-atstart=no --callgrind-out-file="$WORK/cg.out" --log-file="$WORK/cg.log" "${cmd[@]}" >/dev/null 2>"$WORK/stderr" &
  pid=$!; PIDS+=($pid)
  for _ in $(seq 1 600); do curl -fs -o /dev/null "$ready" && break; sleep 0.2; done
  curl -fs -o /dev/null "$ready" || { echo "$target: not ready" >&2; cat "$WORK/stderr" >&2; return 1; }
  h2load --h1 -n "$WARM" -c 10 "${BODY[@]}" -H "x-bench: 1" -H "authorization: Bearer $TOKEN" "$url" >/dev/null
  callgrind_control -i on $pid >/dev/null 2>&1
  out=$(h2load --h1 -n "$COUNT" -c 10 "${BODY[@]}" -H "x-bench: 1" -H "authorization: Bearer $TOKEN" "$url")
  callgrind_control -i off $pid >/dev/null 2>&1
  kill -INT $pid; wait $pid 2>/dev/null || true
  echo "$out" | grep -q "$COUNT succeeded" || { echo "$target: not all $COUNT requests succeeded" >&2; echo "$out" | grep -E "requests:|status codes" >&2; }
  local total gc jit
  total=$(awk '/Collected :/ {print $NF}' "$WORK/cg.log")
  gc=$(gc_instructions); jit=$(jit_instructions)
  [ -n "${BENCH_KEEP:-}" ] && mkdir -p "$BENCH_KEEP" && cp "$WORK/cg.out" "$BENCH_KEEP/callgrind.${target//[:\/]/_}.out"
  printf '%-20s %7d instr/req  %7d without GC and compiler  (GC %d, compiler %d)\n' \
    "$target" $((total / COUNT)) $(((total - gc - jit) / COUNT)) $((gc / COUNT)) $((jit / COUNT))
}

for t in "${TARGETS[@]}"; do count "$t"; done
