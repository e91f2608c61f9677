#!/usr/bin/env node
// CPU per request that meshgate adds inside workerd, over a Worker that only calls
// fetch(upstream): both run in their own workerd (Miniflare, loopback), the same 100-byte
// upstream, wrk against each in interleaved rounds; CPU is the workerd process's utime+stime
// from /proc/PID/stat over the requests wrk counted. The meshgate Worker is the upload wrangler
// builds (minified, no YAML), its policies bench/policies/bench.yaml (+ the JWT fixture) as a
// published bundle in its KV. `npm run bench:workers`; knobs: BENCH_PORT_BASE (default 9500),
// BENCH_DURATION (s, 8), BENCH_ROUNDS (3), BENCH_CONNECTIONS (10). Linux only (wrk, /proc).
// `--against DIR` also builds the Worker of another checkout (a `git worktree` with node_modules)
// into a third workerd and interleaves its routes with this one's ("against:" rows), so a change
// is read against its base in the same minutes: between separate runs the added µs move by ±20.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Miniflare } from "miniflare";
import { cpuUs, workerdPids } from "./workerd-proc.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const base = Number(process.env.BENCH_PORT_BASE ?? 9500);
const duration = Number(process.env.BENCH_DURATION ?? 8);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const againstAt = process.argv.indexOf("--against");
const against = againstAt === -1 ? null : process.argv[againstAt + 1];
const run = promisify(execFile);
const COMPAT = { compatibilityDate: "2026-04-21", compatibilityFlags: ["nodejs_compat"] };

const REFERENCE = `export default { fetch(request, env) { const url = new URL(request.url); return fetch("http://127.0.0.1:" + env.UPSTREAM_PORT + url.pathname + url.search, { method: request.method, headers: request.headers, body: request.body }); } };`;

/** Starts a Miniflare and returns it with the PID of the workerd it spawned. */
async function start(options) {
  const before = new Set(await workerdPids());
  const mf = new Miniflare({ host: "127.0.0.1", ...COMPAT, ...options });
  const url = await mf.ready;
  const pid = (await workerdPids()).find((p) => !before.has(p));
  return { mf, url: url.href.replace(/\/$/, ""), pid };
}

async function wrk(url, headers) {
  const args = ["-t1", `-c${connections}`, `-d${duration}s`, ...headers.flatMap((h) => ["-H", h]), url];
  const { stdout } = await run("taskset", ["-c", "1", "wrk", ...args], { maxBuffer: 1 << 20 });
  const requests = Number(/([0-9]+) requests in/.exec(stdout)[1]);
  const non2xx = Number(/Non-2xx or 3xx responses: ([0-9]+)/.exec(stdout)?.[1] ?? 0);
  return { requests, non2xx, rps: Number(/Requests\/sec:\s+([0-9.]+)/.exec(stdout)[1]) };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = await mkdtemp(join(tmpdir(), "meshgate-workers-cpu-"));
const upstream = spawn("taskset", ["-c", "1", process.execPath, join(root, "bench", "upstream.js"), String(base + 1)], { stdio: "ignore" });
const started = [];
try {
  // The upload as deployed (wrangler.toml: minify, yaml alias), built once.
  const wrangler = join(root, "node_modules", "wrangler", "bin", "wrangler.js");
  await run(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", dir], { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  if (against) await run(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", join(dir, "against")], { cwd: against, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  const token = (await run(process.execPath, [join(root, "bench", "jwt-fixture.js"), dir])).stdout;
  const text = (await readFile(join(root, "bench", "policies", "bench.yaml"), "utf8")).replaceAll("UPSTREAM_PORT", String(base + 1));
  const { makeBundle } = await import(join(root, "dist", "config", "bundle.js"));
  const { KV_KEYS } = await import(join(root, "dist", "config", "kv-publish-target.js"));
  const bundle = await makeBundle([{ name: "bench.yaml", text }, { name: "jwt.yaml", text: await readFile(join(dir, "jwt.yaml"), "utf8") }], 1, "bench");

  const reference = await start({ port: base + 2, modules: true, script: REFERENCE, bindings: { UPSTREAM_PORT: String(base + 1) } });
  started.push(reference.mf);
  const meshgate = await start({ port: base + 3, modules: true, scriptPath: join(dir, "worker.js"), modulesRoot: dir, kvNamespaces: ["POLICIES", "API_KEYS"], durableObjects: { RATE_LIMITER: "RateLimiter" }, bindings: { MESHGATE_CONFIG_TTL_MS: "5000", MESHGATE_ADMIN_PATH: "/__meshgate" } });
  started.push(meshgate.mf);
  await (await meshgate.mf.getKVNamespace("POLICIES")).put(KV_KEYS.current, JSON.stringify(bundle));
  let base2 = null;
  if (against) {
    base2 = await start({ port: base + 4, modules: true, scriptPath: join(dir, "against", "worker.js"), modulesRoot: join(dir, "against"), kvNamespaces: ["POLICIES", "API_KEYS"], durableObjects: { RATE_LIMITER: "RateLimiter" }, bindings: { MESHGATE_CONFIG_TTL_MS: "5000", MESHGATE_ADMIN_PATH: "/__meshgate" } });
    started.push(base2.mf);
    await (await base2.mf.getKVNamespace("POLICIES")).put(KV_KEYS.current, JSON.stringify(bundle));
  }

  const targets = [
    { name: "reference", at: reference, path: "/plain", headers: ["x-bench: 1"] },
    { name: "meshgate", at: meshgate, path: "/plain", headers: ["x-bench: 1"] },
    { name: "meshgate-full", at: meshgate, path: "/full", headers: ["x-bench: 1"] },
    { name: "meshgate-jwt", at: meshgate, path: "/jwt", headers: ["x-bench: 1", `authorization: Bearer ${token}`] },
    { name: "meshgate-ratelimit-local", at: meshgate, path: "/rl-local", headers: ["x-bench: 1"] },
  ];
  // The other checkout's rows follow this one's, interleaved with them in every round.
  if (base2 !== null) for (const t of targets.slice(1)) targets.push({ ...t, name: `against:${t.name}`, at: base2 });
  for (const t of targets) {
    const res = await fetch(t.at.url + t.path, { headers: Object.fromEntries(t.headers.map((h) => h.split(": "))) });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${t.name}: ${t.path} answered ${res.status}`);
  }
  const results = Object.fromEntries(targets.map((t) => [t.name, { us: [], rps: [] }]));
  for (let round = 0; round < rounds; round++) {
    for (const t of targets) {
      await wrk(t.at.url + t.path, t.headers).catch(() => null); // warm-up (JIT, connections), not counted
      const cpu0 = await cpuUs(t.at.pid);
      const r = await wrk(t.at.url + t.path, t.headers);
      const cpu1 = await cpuUs(t.at.pid);
      if (r.non2xx > 0) throw new Error(`${t.name}: ${r.non2xx} non-2xx answers`);
      results[t.name].us.push((cpu1 - cpu0) / r.requests);
      results[t.name].rps.push(r.rps);
    }
  }
  const ref = median(results.reference.us);
  console.log(`### workerd: CPU per request over a fetch-only Worker (${rounds} interleaved rounds, ${duration} s, ${connections} connections, medians)\n`);
  console.log("| target | req/s | vs reference | workerd CPU µs/request | added µs/request |\n|---|---:|---:|---:|---:|");
  for (const t of targets) {
    const us = median(results[t.name].us);
    const rps = median(results[t.name].rps);
    console.log(`| ${t.name} | ${rps.toFixed(0)} | ${(rps / median(results.reference.rps)).toFixed(2)} | ${us.toFixed(0)} | ${t.name === "reference" ? "—" : `+${(us - ref).toFixed(0)}`} |`);
  }
  if (process.argv.includes("--json")) console.log(JSON.stringify(results));
} finally {
  for (const mf of started) await mf.dispose().catch(() => {});
  upstream.kill();
  await rm(dir, { recursive: true, force: true });
}
