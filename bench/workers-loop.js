#!/usr/bin/env node
// CPU per call of the meshgate Worker inside workerd with nothing else in the measurement: one
// request runs the Worker's fetch N times in a loop (bench/workers-loop/entry.js), its upstream
// answered inside the isolate, and the workerd process's CPU (/proc/PID/stat) over that request
// is divided by N. Beside it the same loop over the fetch-only Worker bench:workers compares
// with, so "added" is meshgate's own work. `--against DIR` builds a second Worker from another
// checkout (e.g. a `git worktree` of main) into its own workerd and interleaves the two, so a
// change is judged against its base in the same minutes.
// Usage: node bench/workers-loop.js [--against DIR] [PATH...]   (default /plain /full)
// Env: BENCH_PORT_BASE (19680), BENCH_COUNT (calls per loop, 20000), BENCH_ROUNDS (7)
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { cpuUs, workerdPids } from "./workerd-proc.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const base = Number(process.env.BENCH_PORT_BASE ?? 19680);
const count = Number(process.env.BENCH_COUNT ?? 20000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const args = process.argv.slice(2);
const againstAt = args.indexOf("--against");
const against = againstAt === -1 ? null : resolve(args.splice(againstAt, 2)[1]);
const paths = args.length > 0 ? args : ["/plain", "/full"];
const run = promisify(execFile);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The loop Worker of a checkout, built as wrangler.toml builds the Worker (minified, `yaml` stubbed). */
async function buildLoop(tree, outfile) {
  const entry = await readFile(join(root, "bench", "workers-loop", "entry.js"), "utf8");
  await build({ stdin: { contents: entry, resolveDir: join(tree, "bench", "workers-loop"), loader: "js", sourcefile: "entry.js" }, bundle: true, format: "esm", platform: "neutral", target: "es2022", conditions: ["workerd", "worker", "browser"], mainFields: ["module", "main"], minify: true, alias: { yaml: join(tree, "src", "runtime", "workers", "no-yaml.ts") }, external: ["node:*", "cloudflare:*"], outfile, logLevel: "error" });
}

const dir = await mkdtemp(join(tmpdir(), "meshgate-workers-loop-"));
const started = [];
try {
  const token = (await run(process.execPath, [join(root, "bench", "jwt-fixture.js"), dir])).stdout.trim();
  const text = (await readFile(join(root, "bench", "policies", "bench.yaml"), "utf8")).replaceAll("UPSTREAM_PORT", "9");
  const { makeBundle } = await import(join(root, "dist", "config", "bundle.js"));
  const { KV_KEYS } = await import(join(root, "dist", "config", "kv-publish-target.js"));
  const bundle = await makeBundle([{ name: "bench.yaml", text }, { name: "jwt.yaml", text: await readFile(join(dir, "jwt.yaml"), "utf8") }], 1, "bench");

  const trees = [["this", root], ...(against ? [["against", against]] : [])];
  const workers = [];
  for (const [i, [label, tree]] of trees.entries()) {
    const script = join(dir, `worker-${i}.js`);
    await buildLoop(tree, script);
    const before = new Set(await workerdPids());
    const mf = new Miniflare({ host: "127.0.0.1", port: base + i, compatibilityDate: "2026-04-21", compatibilityFlags: ["nodejs_compat"], modules: true, scriptPath: script, modulesRoot: dir, kvNamespaces: ["POLICIES", "API_KEYS"], durableObjects: { RATE_LIMITER: "RateLimiter" }, bindings: { MESHGATE_CONFIG_TTL_MS: "5000", MESHGATE_ADMIN_PATH: "/__meshgate" } });
    started.push(mf);
    const url = (await mf.ready).href.replace(/\/$/, "");
    const pid = (await workerdPids()).find((p) => !before.has(p));
    await (await mf.getKVNamespace("POLICIES")).put(KV_KEYS.current, JSON.stringify(bundle));
    workers.push({ label, url, pid });
  }

  const extraFor = (path) => (path === "/jwt" ? [["authorization", `Bearer ${token}`]] : []);
  const loop = async ({ url, pid }, mode, path) => {
    const q = new URLSearchParams({ mode, path, n: String(count), headers: JSON.stringify(extraFor(path)) });
    const cpu0 = await cpuUs(pid);
    const res = await fetch(`${url}/?${q}`);
    const body = await res.text();
    const cpu1 = await cpuUs(pid);
    if (res.status !== 200) throw new Error(body);
    return (cpu1 - cpu0) / count;
  };
  const targets = workers.flatMap((w) => [[w, "reference", "/plain"], ...paths.map((p) => [w, "meshgate", p])]);
  for (const t of targets) await loop(...t); // warm-up: JIT tiers
  const key = ([w, mode, path]) => `${against ? `${w.label}: ` : ""}${mode} ${path}`;
  const results = new Map(targets.map((t) => [key(t), []]));
  for (let round = 0; round < rounds; round++) for (const t of targets) results.get(key(t)).push(await loop(...t));
  console.log(`### workerd, in-isolate loop: CPU µs per call (${rounds} interleaved rounds × ${count} calls, medians)\n`);
  console.log("| target | µs per call | rounds | added over its reference |\n|---|---:|---|---:|");
  for (const w of workers) {
    const ref = median(results.get(key([w, "reference", "/plain"])));
    for (const t of targets.filter((t) => t[0] === w)) {
      const us = results.get(key(t));
      console.log(`| ${key(t)} | ${median(us).toFixed(1)} | ${us.map((u) => u.toFixed(0)).join(" / ")} | ${t[1] === "reference" ? "—" : `+${(median(us) - ref).toFixed(1)}`} |`);
    }
  }
} finally {
  for (const mf of started) await mf.dispose().catch(() => {});
  await rm(dir, { recursive: true, force: true });
}
