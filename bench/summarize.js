// Turns bench/results/raw/<section>/<target>-<round>.txt (wrk --latency output, the p99.9 line of
// bench/wrk.lua and the proxy's "cpu_us" from bench/lib.sh) into one table per section: medians
// over the rounds, and ratios against the peers measured in the same run.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2] ?? "bench/results";
const raw = join(dir, "raw");

/** Per section: its heading, what one request is, and which targets its ratios are against. */
const SECTIONS = {
  proxy: { title: "GET, 100-byte responses, keep-alive", unit: "req/s", per: "req", peers: ["nginx", "haproxy", "reference", "reference-forwarding", "direct", "meshgate"] },
  uploads: { title: "uploads: POST bodies (BENCH_UPLOAD_BYTES, 1 MiB by default), keep-alive", unit: "req/s", per: "req", peers: ["nginx", "haproxy", "reference", "direct"] },
  "https-keepalive": { title: "HTTPS, keep-alive (TLS termination, HTTP/1.1 to the upstream)", unit: "req/s", per: "req", peers: ["nginx", "haproxy", "reference"] },
  "https-handshake": { title: "HTTPS, a new connection per request (full TLS handshake each)", unit: "handshakes/s", per: "handshake", peers: ["nginx", "haproxy", "reference"] },
  "https-mtls-handshake": { title: "mTLS: a new connection per request, client certificate required (bench/mtls-client.js)", unit: "handshakes/s", per: "handshake", peers: ["nginx", "reference"] },
};
const ORDER = ["direct", "nginx", "haproxy", "reference", "reference-forwarding", "meshgate", "meshgate-full", "meshgate-resilience", "meshgate-jwt", "meshgate-ratelimit-local", "meshgate-ratelimit-redis", "meshgate-exact", "meshgate-regex", "meshgate-mesh"];

const toMs = (v, unit) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? 1);
const num = (re, text) => {
  const m = re.exec(text);
  return m ? Number(m[1]) : null;
};
const latency = (re, text) => {
  const m = re.exec(text);
  return m ? toMs(m[1], m[2]) : null;
};
const median = (xs) => {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

function parse(text, round) {
  const requests = num(/(\d+) requests in/, text);
  const cpuUs = num(/^cpu_us: (\d+)/m, text);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    round,
    rps: num(/Requests\/sec:\s+([\d.]+)/, text) ?? 0,
    p50: latency(/\s50%\s+([\d.]+)(us|ms|s)/, text),
    p99: latency(/\s99%\s+([\d.]+)(us|ms|s)/, text),
    p999: latency(/^p99\.9: ([\d.]+)(us)/m, text),
    // CPU of the proxy process per request it served (null for direct: there is no proxy).
    cpuPerRequest: cpuUs !== null && requests ? cpuUs / requests : null,
    errors: (num(/Non-2xx or 3xx responses:\s+(\d+)/, text) ?? 0) + (socket ? socket.slice(1).reduce((a, n) => a + Number(n), 0) : 0),
  };
}

function summarizeSection(section) {
  const runs = {};
  for (const file of readdirSync(join(raw, section)).sort()) {
    const m = /^(.+)-(\d+)\.txt$/.exec(file);
    if (m) (runs[m[1]] ??= []).push(parse(readFileSync(join(raw, section, file), "utf8"), Number(m[2])));
  }
  return Object.fromEntries(
    Object.entries(runs).map(([target, rs]) => [
      target,
      {
        rounds: rs.map((r) => r.rps),
        rps: median(rs.map((r) => r.rps)),
        p50: median(rs.map((r) => r.p50)),
        p99: median(rs.map((r) => r.p99)),
        p999: median(rs.map((r) => r.p999)),
        cpuPerRequest: median(rs.map((r) => r.cpuPerRequest)),
        errors: rs.reduce((a, r) => a + r.errors, 0),
      },
    ]),
  );
}

const fixed = (x, digits) => (x === null ? "—" : x.toFixed(digits));

function table(section, summary) {
  const { title, unit, per, peers } = SECTIONS[section] ?? { title: section, unit: "req/s", per: "req", peers: ["reference"] };
  const present = peers.filter((p) => summary[p]);
  const targets = ORDER.filter((t) => summary[t]).concat(Object.keys(summary).filter((t) => !ORDER.includes(t)));
  const ratio = (t, ref) => (summary[ref]?.rps ? (summary[t].rps / summary[ref].rps).toFixed(2) : "—");
  const cpuRatio = (t) => (summary[t].cpuPerRequest !== null && summary.reference?.cpuPerRequest ? (summary[t].cpuPerRequest / summary.reference.cpuPerRequest).toFixed(2) : "—");
  const cpuAbove = (t) => (summary[t].cpuPerRequest !== null && summary.reference?.cpuPerRequest ? `${summary[t].cpuPerRequest >= summary.reference.cpuPerRequest ? "+" : ""}${(summary[t].cpuPerRequest - summary.reference.cpuPerRequest).toFixed(1)}` : "—");
  return [
    `### ${section}: ${title}`,
    "",
    `| target | ${unit} per round | ${unit} (median) | p50 ms | p99 ms | p99.9 ms | CPU µs/${per} | CPU vs reference | CPU µs over reference | ${present.map((p) => `vs ${p}`).join(" | ")} | errors |`,
    `|---|---|---|---|---|---|---|---|---|${present.map(() => "---|").join("")}---|`,
    ...targets.map((t) => {
      const s = summary[t];
      return `| ${t} | ${s.rounds.map((r) => Math.round(r)).join(" / ")} | ${Math.round(s.rps)} | ${fixed(s.p50, 2)} | ${fixed(s.p99, 2)} | ${fixed(s.p999, 2)} | ${fixed(s.cpuPerRequest, 1)} | ${cpuRatio(t)} | ${cpuAbove(t)} | ${present.map((p) => ratio(t, p)).join(" | ")} | ${s.errors} |`;
    }),
  ].join("\n");
}

const sections = existsSync(raw) ? readdirSync(raw).filter((s) => !s.endsWith(".txt")) : [];
sections.sort((a, b) => Object.keys(SECTIONS).indexOf(a) - Object.keys(SECTIONS).indexOf(b));
const summaries = Object.fromEntries(sections.map((s) => [s, summarizeSection(s)]));
const md = sections.map((s) => table(s, summaries[s])).join("\n\n");
writeFileSync(join(dir, "latest.md"), `${md}\n`);
writeFileSync(join(dir, "latest.json"), JSON.stringify({ date: new Date().toISOString(), sections: summaries }, null, 2));
console.log(md);
