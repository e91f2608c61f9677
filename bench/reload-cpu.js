// Reload CPU in one process, without the watcher, the settle wait or a second thread: what a
// reload that adds one route to BENCH_ROUTES (10,000) costs each side of `meshgate serve`.
//   worker   parse (cached documents, js-yaml for the new one), validate, encode for posting
//   post     the structured clone between the threads, both ends
//   serving  decode, then compilePrepared with the holder's CompileMemo (the routes of unchanged
//            documents reused), in one go (serve spreads it over 5 ms slices)
// CPU is this process's user + system time (process.cpuUsage: GC and JIT threads included).
// Median and range over BENCH_RELOADS (8) reloads, after a first load and two warm-up reloads.
// Usage: npm run build && node bench/reload-cpu.js [host|prefix]
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import { ParseCache } from "../dist/policy/parse-cache.js";
import { fastYamlValues } from "../dist/runtime/node/fast-yaml.js";
import { preparePolicies } from "../dist/snapshot/prepare.js";
import { compilePrepared } from "../dist/snapshot/compile-snapshot.js";
import { CompileMemo } from "../dist/snapshot/compile-memo.js";
import { WireDecoder, WireEncoder } from "../dist/runtime/node/policy-wire.js";

const shape = process.argv[2] ?? "host";
const n = Number(process.env.BENCH_ROUTES ?? 10_000);
const reloads = Number(process.env.BENCH_RELOADS ?? 8);
const backend = 'apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: echo }\nspec:\n  endpoints: [{ url: "http://127.0.0.1:9" }]\n';
const route = (name, i) =>
  `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: ${name} }\nspec:\n` +
  (shape === "host" ? `  hostnames: ["svc-${i}.bench.test"]\n  rules: [{ backendRefs: [{ name: echo }] }]\n` : `  rules: [{ matches: [{ path: { type: PathPrefix, value: /svc-${i} } }], backendRefs: [{ name: echo }] }]\n`);
const base = Array.from({ length: n }, (_, i) => route(`r-${i}`, i));

const cache = new ParseCache(fastYamlValues);
const encoder = new WireEncoder();
const decoder = new WireDecoder();
const memo = new CompileMemo();
const { port1, port2 } = new MessageChannel();
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function load(extra) {
  const docs = [...base];
  for (let e = 0; e < extra; e++) docs.push(route(`extra-${e}`, n + e));
  const sources = [{ name: "backend.yaml", text: backend }, { name: "routes.yaml", text: docs.join("---\n") }];
  const c0 = cpu();
  const wire = encoder.encode(preparePolicies(sources, `h${extra}`, { cache }));
  const c1 = cpu();
  // As the worker posts it: new documents in batches of 250, then the rest.
  for (let i = 0; i < wire.fresh.length; i += 250) port1.postMessage({ docs: wire.fresh.slice(i, i + 250) });
  port1.postMessage({ wire: { ...wire, fresh: [] } });
  let last = null;
  for (let m = receiveMessageOnPort(port2); m !== undefined; m = receiveMessageOnPort(port2)) {
    if (m.message.docs !== undefined) decoder.receive(m.message.docs);
    else last = m.message.wire;
  }
  const c2 = cpu();
  const snapshot = await compilePrepared(decoder.decode(last), { location: "bench", files: [] }, undefined, { http2Upstreams: "allow" }, undefined, memo);
  const c3 = cpu();
  if (snapshot.counts.routes !== n + extra) throw new Error(`compiled ${snapshot.counts.routes} routes, expected ${n + extra}`);
  return { worker: c1 - c0, post: c2 - c1, serving: c3 - c2, total: c3 - c0 };
}

const first = await load(0);
await load(1);
await load(2);
const runs = [];
for (let k = 3; k < 3 + reloads; k++) runs.push(await load(k));
port1.close();
const stat = (key) => {
  const v = runs.map((r) => r[key]).sort((a, b) => a - b);
  return `${v[Math.floor(v.length / 2)].toFixed(0)} (${v[0].toFixed(0)}–${v[v.length - 1].toFixed(0)})`;
};
console.log(`${shape}, ${n.toLocaleString("en")} routes: first load ${first.total.toFixed(0)} ms CPU (worker ${first.worker.toFixed(0)}, post ${first.post.toFixed(0)}, serving ${first.serving.toFixed(0)})`);
console.log(`reload (+1 route), ms CPU, median (range) of ${reloads}: worker ${stat("worker")}, post ${stat("post")}, serving ${stat("serving")}, total ${stat("total")}`);
