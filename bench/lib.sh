# Shared by bench/run.sh, bench/versus.sh and bench/grpc.sh (sourced, not run).

# need COMMAND DEBIAN-PACKAGE: installs the package when the command is missing.
need() {
  command -v "$1" >/dev/null && return 0
  echo "installing $2 from Debian"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
}

# wait_http URL [CURL-ARGS...]: until it answers 2xx/3xx (15 s at most).
wait_http() {
  local url=$1; shift
  for _ in $(seq 1 150); do curl -fsk -o /dev/null "$@" "$url" && return 0; sleep 0.1; done
  echo "not ready: $url" >&2; return 1
}

TICK=$(getconf CLK_TCK)

# cpu_ticks PID...: user + system CPU ticks of these processes and their children (nginx's
# worker under its master), from /proc/PID/stat: the figure least moved by a noisy neighbour.
cpu_ticks() {
  local total=0 p q
  for p in "$@"; do
    for q in "$p" $(cat /proc/"$p"/task/*/children 2>/dev/null); do
      total=$((total + $(awk '{print $14 + $15}' /proc/"$q"/stat 2>/dev/null || echo 0)))
    done
  done
  echo "$total"
}

# measured_wrk "PID..." WRK-ARGS...: wrk pinned to core 1, its output followed by
# "cpu_us: N", the CPU the given processes spent while it ran (the request count is wrk's own);
# no PIDs (wrk straight to the upstream): no cpu_us line.
measured_wrk() {
  local pids=$1; shift
  measured "$pids" wrk "$@"
}

# measured "PID..." COMMAND ARGS...: the same for any load generator (bench/mtls-client.js).
measured() {
  local pids=$1 before after; shift
  [ -z "$pids" ] && { taskset -c 1 "$@"; return; }
  # shellcheck disable=SC2086
  before=$(cpu_ticks $pids)
  taskset -c 1 "$@"
  # shellcheck disable=SC2086
  after=$(cpu_ticks $pids)
  echo "cpu_us: $(( (after - before) * 1000000 / TICK ))"
}

# start_nginx DIR HTTP-BLOCK: one nginx worker on core 0 whose http { } block holds HTTP-BLOCK
# (access log off); sets NGX_PID and adds it to PIDS.
start_nginx() {
  local dir=$1 body=$2
  mkdir -p "$dir/logs"
  cat > "$dir/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
error_log $dir/logs/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
$body
}
NGINX
  taskset -c 0 nginx -p "$dir" -c "$dir/nginx.conf" & PIDS+=($!)
  NGX_PID=$!
}
