#!/usr/bin/env node
// Where a Worker's CPU goes, per request: the V8 CPU profiler of workerd's inspector, attached to
// the user Worker's isolate (not Miniflare's entry Worker in front of it), while wrk drives one
// route. Prints the isolate's sampled time per request and the functions with the most self time,
// for meshgate (built unminified, so functions keep their names) and for the fetch-only Worker
// bench/workers-cpu.js compares against. Sampling, so read it as proportions, not µs to trust to
// the unit; `npm run bench:workers` is the end-to-end figure.
// Usage: node bench/workers-profile.js [PATH...]   (default /plain; paths of bench/policies/bench.yaml)
// Env: BENCH_PORT_BASE (19660), BENCH_DURATION (s, 6), BENCH_CONNECTIONS (10), BENCH_TOP (25).
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Miniflare } from "miniflare";
import WebSocket from "ws";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const base = Number(process.env.BENCH_PORT_BASE ?? 19660);
const duration = Number(process.env.BENCH_DURATION ?? 6);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const top = Number(process.env.BENCH_TOP ?? 25);
const paths = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["/plain"];
const run = promisify(execFile);
const COMPAT = { compatibilityDate: "2026-04-21", compatibilityFlags: ["nodejs_compat"] };
const REFERENCE = `export default { fetch(request, env) { const url = new URL(request.url); return fetch("http://127.0.0.1:" + env.UPSTREAM_PORT + url.pathname + url.search, { method: request.method, headers: request.headers, body: request.body }); } };`;

/** A CDP session on the user Worker's isolate. */
async function inspect(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  const target = targets.find((t) => t.id === "core:user:");
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  let id = 0;
  const waiting = new Map();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data));
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg);
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const n = ++id;
      waiting.set(n, (msg) => (msg.error ? reject(new Error(`${method}: ${msg.error.message}`)) : resolve(msg.result)));
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  return { send, close: () => ws.close() };
}

async function wrk(url, headers) {
  const args = ["-t1", `-c${connections}`, `-d${duration}s`, ...headers.flatMap((h) => ["-H", h]), url];
  const { stdout } = await run("wrk", args, { maxBuffer: 1 << 20 });
  return Number(/([0-9]+) requests in/.exec(stdout)[1]);
}

/** Self time per function (name, file:line) from a V8 CPU profile, in µs. */
function selfTimes(profile) {
  const dt = (profile.endTime - profile.startTime) / profile.samples.length;
  const hits = new Map();
  for (const n of profile.nodes) hits.set(n.id, n);
  const counts = new Map();
  for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  const byFn = new Map();
  let busy = 0;
  for (const [nodeId, count] of counts) {
    const f = hits.get(nodeId).callFrame;
    const name = f.functionName || "(anonymous)";
    if (name === "(idle)" || name === "(program)") continue;
    const where = f.url ? `${f.url.split("/").pop()}:${f.lineNumber + 1}` : "";
    const key = `${name} ${where}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + count * dt);
    busy += count * dt;
  }
  return { busy, rows: [...byFn].sort((a, b) => b[1] - a[1]) };
}

async function profileTarget(name, mfOptions, path, headers, prepare) {
  const mf = new Miniflare({ host: "127.0.0.1", ...COMPAT, ...mfOptions });
  try {
    const url = (await mf.ready).href.replace(/\/$/, "");
    await prepare?.(mf);
    const first = await fetch(url + path, { headers: Object.fromEntries(headers.map((h) => h.split(": "))) });
    await first.arrayBuffer();
    if (first.status !== 200) throw new Error(`${name}: ${path} answered ${first.status}`);
    await wrk(url + path, headers); // warm-up: JIT tiers, connections
    const cdp = await inspect(mfOptions.inspectorPort);
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
    await cdp.send("Profiler.start");
    const requests = await wrk(url + path, headers);
    const { profile } = await cdp.send("Profiler.stop");
    cdp.close();
    const { busy, rows } = selfTimes(profile);
    console.log(`\n### ${name} ${path}: ${(busy / requests).toFixed(1)} µs sampled in the user isolate per request (${requests} requests)\n`);
    console.log("| self µs/request | share | function |\n|---:|---:|---|");
    for (const [fn, us] of rows.slice(0, top)) console.log(`| ${(us / requests).toFixed(2)} | ${((100 * us) / busy).toFixed(1)}% | \`${fn}\` |`);
  } finally {
    await mf.dispose().catch(() => {});
  }
}

const dir = await mkdtemp(join(tmpdir(), "meshgate-workers-profile-"));
const upstreamPort = base + 1;
const upstream = spawn(process.execPath, [join(root, "bench", "upstream.js"), String(upstreamPort)], { stdio: "ignore" });
try {
  await run(process.execPath, [join(root, "node_modules", "wrangler", "bin", "wrangler.js"), "deploy", "--dry-run", "--no-minify", "--outdir", dir], { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  const token = (await run(process.execPath, [join(root, "bench", "jwt-fixture.js"), dir])).stdout;
  const text = (await readFile(join(root, "bench", "policies", "bench.yaml"), "utf8")).replaceAll("UPSTREAM_PORT", String(upstreamPort));
  const { makeBundle } = await import(join(root, "dist", "config", "bundle.js"));
  const { KV_KEYS } = await import(join(root, "dist", "config", "kv-publish-target.js"));
  const bundle = await makeBundle([{ name: "bench.yaml", text }, { name: "jwt.yaml", text: await readFile(join(dir, "jwt.yaml"), "utf8") }], 1, "bench");
  const headersFor = (path) => ["x-bench: 1", ...(path === "/jwt" ? [`authorization: Bearer ${token}`] : [])];
  await profileTarget("reference", { port: base + 2, inspectorPort: base + 3, modules: true, script: REFERENCE, bindings: { UPSTREAM_PORT: String(upstreamPort) } }, "/plain", headersFor("/plain"));
  for (const path of paths) {
    const options = { port: base + 4, inspectorPort: base + 5, modules: true, scriptPath: join(dir, "worker.js"), modulesRoot: dir, kvNamespaces: ["POLICIES", "API_KEYS"], durableObjects: { RATE_LIMITER: "RateLimiter" }, bindings: { MESHGATE_CONFIG_TTL_MS: "5000", MESHGATE_ADMIN_PATH: "/__meshgate" } };
    await profileTarget("meshgate", options, path, headersFor(path), async (mf) => (await mf.getKVNamespace("POLICIES")).put(KV_KEYS.current, JSON.stringify(bundle)));
  }
} finally {
  upstream.kill();
  await rm(dir, { recursive: true, force: true });
}
