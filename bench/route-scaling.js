// Route scaling: 10 / 1,000 / 10,000 routes, by hostname and by path prefix, each in a fresh
// `meshgate serve` with the policy watcher on. Per case: time to ready, reload time (one route
// file edited until /ready reports the new version), RSS, idle CPU with the watcher on, req/s
// (wrk, 50 connections) against a route in the middle relative to the 10-route case of the same
// shape, the 1-connection p99 while the watcher runs, and the slowest answer a 1-connection probe
// got while the reload ran (beside the slowest it got in a quiet second just before).
// Also the process's CPU (user + system, all threads, from /proc/PID/stat) to ready and per reload.
// Each reload round is two reloads: one unprobed (its time and CPU: a probe's own requests would
// count in it) and one with the probe running (its time, and the slowest answer).
// BENCH_ROUTES=10,10000 picks the sizes; BENCH_RELOADS=N reloads N times per case (one route more
// each time; the figures are the median with the range); BENCH_WRK=0 skips the wrk and idle runs;
// BENCH_SERVE_CPUS picks the cores meshgate may use (taskset list, default 0: ready is then the
// CPU it takes; 0,1 lets the policy worker and V8's helper threads run beside the serving thread).
// Usage: node bench/route-scaling.js [UPSTREAM_PORT] [PORT]   (bench/run.sh runs it with BENCH_SCALING=1)
import { execFileSync, spawn } from "node:child_process";
import { Agent, request } from "node:http";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const UP = Number(process.argv[2] ?? 19500);
const PORT = Number(process.argv[3] ?? 19520);
const ADMIN = PORT + 1;
const SECONDS = Number(process.env.BENCH_DURATION ?? 5);
const RELOADS = Number(process.env.BENCH_RELOADS ?? 1);
const WRK = process.env.BENCH_WRK !== "0";
const TICK_US = 1e6 / Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim());

const backend = `apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: echo }\nspec:\n  endpoints: [{ url: "http://127.0.0.1:${UP}" }]\n`;

function routes(shape, n) {
  const docs = [];
  for (let i = 0; i < n; i++) {
    const match = shape === "host" ? `  hostnames: ["svc-${i}.bench.test"]\n  rules: [{ backendRefs: [{ name: echo }] }]\n` : `  rules: [{ matches: [{ path: { type: PathPrefix, value: /svc-${i} } }], backendRefs: [{ name: echo }] }]\n`;
    docs.push(`apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r-${i} }\nspec:\n${match}`);
  }
  return docs.join("---\n");
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cpuTicks = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]);
};
const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;

async function readyVersion() {
  try {
    const res = await fetch(`http://127.0.0.1:${ADMIN}/ready`);
    return res.status === 200 ? (await res.json()).version : null;
  } catch {
    return null;
  }
}

function wrk(connections, target, host) {
  const out = execFileSync("taskset", ["-c", "1", "wrk", "-t1", `-c${connections}`, `-d${SECONDS}s`, "--latency", "-H", `host: ${host}`, target]).toString();
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99ms = p99 ? Number(p99[1]) * { us: 0.001, ms: 1, s: 1000 }[p99[2]] : NaN;
  return { rps, p99ms };
}

/** One keep-alive connection, one request at a time, until stop(): the slowest answer is how long a reload held the loop. */
function delayProbe(path, host) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let running = true;
  let max = 0;
  let count = 0;
  const one = () =>
    new Promise((resolve) => {
      const t = performance.now();
      const req = request({ host: "127.0.0.1", port: PORT, path, agent, headers: { host } }, (res) => {
        res.resume();
        res.on("end", () => {
          max = Math.max(max, performance.now() - t);
          count++;
          resolve();
        });
      });
      req.on("error", resolve);
      req.end();
    });
  const loop = (async () => {
    while (running) await one();
  })();
  return {
    async stop() {
      running = false;
      await loop;
      agent.destroy();
      return { maxMs: max, count };
    },
  };
}

async function measure(shape, n) {
  const dir = mkdtempSync(join(tmpdir(), "meshgate-scale-"));
  writeFileSync(join(dir, "backend.yaml"), backend);
  writeFileSync(join(dir, "routes.yaml"), routes(shape, n));
  const start = performance.now();
  const child = spawn("taskset", ["-c", process.env.BENCH_SERVE_CPUS ?? "0", process.execPath, "bin/meshgate.js", "serve", "--policies", dir, "--port", String(PORT), "--admin-port", String(ADMIN), "--access-log", "off"], { stdio: "ignore" });
  let version = null;
  while ((version = await readyVersion()) === null) {
    if (performance.now() - start > 120_000) throw new Error(`not ready: ${shape} ${n}`);
    await sleep(20);
  }
  const readyMs = performance.now() - start;
  const pid = child.pid; // taskset execs node in place
  const readyCpuMs = (cpuTicks(pid) * TICK_US) / 1000;
  const mid = Math.floor(n / 2);
  const host = shape === "host" ? `svc-${mid}.bench.test` : "bench.test";
  const target = `http://127.0.0.1:${PORT}${shape === "host" ? "/" : `/svc-${mid}/x`}`;
  let loaded = { rps: NaN, p99ms: NaN };
  let single = { rps: NaN, p99ms: NaN };
  let idlePct = NaN;
  if (WRK) {
    wrk(50, target, host); // warm-up
    loaded = wrk(50, target, host);
    single = wrk(1, target, host);
    const t0 = cpuTicks(pid);
    await sleep(5_000);
    idlePct = ((cpuTicks(pid) - t0) * TICK_US) / 5e6 * 100;
  } else {
    await sleep(1_000);
  }
  const rss = rssMiB(pid);
  // The same probe with nothing reloading: the reference for the delay during a reload.
  const quiet = delayProbe(shape === "host" ? "/" : `/svc-${mid}/x`, host);
  await sleep(1_000);
  const idleProbe = await quiet.stop();
  const reloads = [];
  let extras = 0;
  // One more route in the file, timed until the new version answers /ready.
  const reload = async () => {
    const extra = [];
    for (let e = 0; e <= extras; e++) extra.push(routes(shape, 1).replace("r-0", `r-extra-${e}`));
    extras++;
    const c0 = cpuTicks(pid);
    const edited = performance.now();
    writeFileSync(join(dir, "routes.yaml"), `${routes(shape, n)}---\n${extra.join("---\n")}`);
    let next = version;
    while ((next = await readyVersion()) === version) {
      if (performance.now() - edited > 120_000) break;
      await sleep(10);
    }
    version = next;
    return { ms: performance.now() - edited, cpuMs: ((cpuTicks(pid) - c0) * TICK_US) / 1000 };
  };
  for (let k = 1; k <= RELOADS; k++) {
    // Unprobed: the reload's own time and CPU (a probe's requests would be counted in it).
    const quietReload = await reload();
    await sleep(500);
    // Probed throughout: the slowest answer while the reload ran.
    const probe = delayProbe(shape === "host" ? "/" : `/svc-${mid}/x`, host);
    await sleep(100);
    const probed = await reload();
    await sleep(300);
    const during = await probe.stop();
    reloads.push({ reloadMs: quietReload.ms, cpuMs: quietReload.cpuMs, probedMs: probed.ms, maxDelayMs: during.maxMs });
    await sleep(500);
  }
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  rmSync(dir, { recursive: true, force: true });
  const pick = (key) => {
    const v = reloads.map((r) => r[key]).sort((a, b) => a - b);
    return { median: v[Math.floor(v.length / 2)], min: v[0], max: v[v.length - 1] };
  };
  return { shape, n, readyMs, readyCpuMs, reload: pick("reloadMs"), reloadCpu: pick("cpuMs"), probed: pick("probedMs"), maxDelay: pick("maxDelayMs"), rss, idlePct, ...loaded, p99ms1: single.p99ms, idleMaxMs: idleProbe.maxMs };
}

const results = [];
const sizes = (process.env.BENCH_ROUTES ?? "10,1000,10000").split(",").map(Number);
for (const shape of ["host", "prefix"]) for (const n of sizes) results.push(await measure(shape, n));

const fmt = (s, digits = 0) => (RELOADS === 1 ? `${s.median.toFixed(digits)}` : `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`);
console.log("| shape | routes | req/s | vs 10 routes | ready | CPU to ready | reload | reload CPU | reload, probed | max request delay during reload (idle) | RSS | idle CPU (watcher on) | 1-conn p99 |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const r of results) {
  const base = results.find((b) => b.shape === r.shape && b.n === 10) ?? r;
  // Columns of runs skipped with BENCH_WRK=0 read "—".
  const or = (x, text) => (Number.isNaN(x) ? "—" : text);
  console.log(`| ${r.shape} | ${r.n.toLocaleString("en")} | ${or(r.rps, Math.round(r.rps).toLocaleString("en"))} | ${or(r.rps / base.rps, (r.rps / base.rps).toFixed(2))} | ${Math.round(r.readyMs)} ms | ${Math.round(r.readyCpuMs)} ms | ${fmt(r.reload)} ms | ${fmt(r.reloadCpu)} ms | ${fmt(r.probed)} ms | ${fmt(r.maxDelay, 1)} ms (${r.idleMaxMs.toFixed(1)} ms) | ${Math.round(r.rss)} MiB | ${or(r.idlePct, `${r.idlePct.toFixed(1)}%`)} | ${or(r.p99ms1, `${r.p99ms1.toFixed(2)} ms`)} |`);
}
