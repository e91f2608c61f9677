// Turns bench/results/raw-grpc/<section>/<target>-<round>.txt (h2load output plus the proxy's
// "cpu_us" from bench/grpc.sh) into the gRPC and HTTP/2 tables: medians over the rounds, ratios
// against the peers measured in the same run, and the proxy's CPU µs per request.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const raw = process.argv[2] ?? "bench/results/raw-grpc";
// cpu_us covers h2load's warm-up too: requests are counted over warm-up + measured time at the measured rate.
const warmup = Number(process.argv[3] ?? 2);

const SECTIONS = {
  grpc: { title: "gRPC unary (100-byte message), h2c both sides", order: ["direct", "nginx", "meshgate"], peers: ["nginx", "direct"] },
  downstream: { title: "meshgate GET /plain (HTTP/1.1 upstream): HTTP/2 vs HTTP/1.1 clients", order: ["meshgate-h1", "meshgate-h2"], peers: ["meshgate-h1"] },
};

const median = (xs) => {
  const s = xs.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const num = (re, text) => {
  const m = re.exec(text);
  return m ? Number(m[1]) : null;
};

function parse(text) {
  const rps = num(/finished in [\d.]+s, ([\d.]+) req\/s/, text);
  const seconds = num(/finished in ([\d.]+)s/, text);
  const failed = (num(/(\d+) failed/, text) ?? 0) + (num(/(\d+) errored/, text) ?? 0) + (num(/(\d+) timeout/, text) ?? 0);
  const non2xx = (num(/(\d+) 3xx/, text) ?? 0) + (num(/(\d+) 4xx/, text) ?? 0) + (num(/(\d+) 5xx/, text) ?? 0);
  const meanMs = (() => {
    const m = /time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)/.exec(text);
    return m ? Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]] : null;
  })();
  const cpuUs = num(/cpu_us: (\d+)/, text);
  const cpuPerReq = cpuUs !== null && rps && seconds ? cpuUs / (rps * (seconds + warmup)) : null;
  return { rps, failed, non2xx, meanMs, cpuPerReq };
}

const fmt = (x, digits = 0) => (x === null ? "—" : x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }));

for (const [section, spec] of Object.entries(SECTIONS)) {
  const dir = join(raw, section);
  if (!existsSync(dir)) continue;
  const rows = {};
  for (const file of readdirSync(dir)) {
    const m = /^(.*)-(\d+)\.txt$/.exec(file);
    if (!m) continue;
    (rows[m[1]] ??= []).push(parse(readFileSync(join(dir, file), "utf8")));
  }
  const med = Object.fromEntries(Object.entries(rows).map(([t, rs]) => [t, { rps: median(rs.map((r) => r.rps)), cpu: median(rs.map((r) => r.cpuPerReq)), mean: median(rs.map((r) => r.meanMs)), bad: rs.reduce((s, r) => s + r.failed + r.non2xx, 0), rounds: rs.length }]));
  const peers = spec.peers.filter((p) => med[p]);
  console.log(`\n### ${spec.title}\n`);
  console.log(`| target | req/s | mean latency ms | CPU µs/req (proxy) | ${peers.map((p) => `vs ${p}`).join(" | ")} | failed or non-2xx |`);
  console.log(`|---|---|---|---|${peers.map(() => "---|").join("")}---|`);
  for (const t of spec.order.filter((x) => med[x])) {
    const r = med[t];
    const ratios = peers.map((p) => (med[p].rps && r.rps ? (r.rps / med[p].rps).toFixed(2) : "—"));
    console.log(`| ${t} | ${fmt(r.rps)} | ${fmt(r.mean, 2)} | ${fmt(r.cpu, 1)} | ${ratios.join(" | ")} | ${r.bad} |`);
  }
}
