// Parses wrk --latency outputs (bench/results/raw/<target>-<round>.txt) into the results table.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2] ?? "bench/results";
const raw = join(dir, "raw");
const toMs = (v, unit) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? 1);

const runs = {};
for (const file of readdirSync(raw).sort()) {
  const m = /^(.+)-(\d+)\.txt$/.exec(file);
  if (!m) continue;
  const text = readFileSync(join(raw, file), "utf8");
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const p50 = /\s50%\s+([\d.]+)(us|ms|s)/.exec(text);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(text);
  const errors = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text);
  const socket = /Socket errors:.*/.exec(text);
  (runs[m[1]] ??= []).push({
    round: Number(m[2]),
    rps: rps ? Number(rps[1]) : 0,
    p50: p50 ? toMs(p50[1], p50[2]) : null,
    p99: p99 ? toMs(p99[1], p99[2]) : null,
    non2xx: errors ? Number(errors[1]) : 0,
    socketErrors: socket ? socket[0] : null,
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const summary = Object.fromEntries(
  Object.entries(runs).map(([target, rs]) => [
    target,
    { rounds: rs.map((r) => r.rps), rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50 ?? 0)), p99: median(rs.map((r) => r.p99 ?? 0)), non2xx: rs.reduce((a, r) => a + r.non2xx, 0) },
  ]),
);

const ratio = (t, ref) => (summary[t] && summary[ref]?.rps ? (summary[t].rps / summary[ref].rps).toFixed(2) : "—");
const order = ["direct", "nginx", "reference", "meshgate", "meshgate-full", "meshgate-resilience", "meshgate-jwt", "meshgate-ratelimit-local", "meshgate-ratelimit-redis", "meshgate-exact", "meshgate-regex"].filter((t) => summary[t]).concat(Object.keys(summary).filter((t) => !["direct", "nginx", "reference", "meshgate", "meshgate-full", "meshgate-resilience", "meshgate-jwt", "meshgate-ratelimit-local", "meshgate-ratelimit-redis", "meshgate-exact", "meshgate-regex"].includes(t)));
const lines = [
  "| target | req/s per round | req/s (median) | p50 ms | p99 ms | vs nginx | vs reference | vs direct | vs meshgate | non-2xx |",
  "|---|---|---|---|---|---|---|---|---|---|",
  ...order.map((t) => {
    const s = summary[t];
    return `| ${t} | ${s.rounds.map((r) => Math.round(r)).join(" / ")} | ${Math.round(s.rps)} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${ratio(t, "nginx")} | ${ratio(t, "reference")} | ${ratio(t, "direct")} | ${ratio(t, "meshgate")} | ${s.non2xx} |`;
  }),
];
const md = lines.join("\n");
writeFileSync(join(dir, "latest.md"), `${md}\n`);
writeFileSync(join(dir, "latest.json"), JSON.stringify({ date: new Date().toISOString(), summary }, null, 2));
console.log(md);
