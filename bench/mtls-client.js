// A handshake load generator that presents a client certificate (wrk cannot): CONNECTIONS loops,
// each opening a new TLS connection per request (a full handshake: no session is reused),
// sending one GET with `Connection: close` and reading the answer to its end. Prints what
// bench/summarize.js reads from wrk: the request count, req/s, the latency percentiles, p99.9,
// non-2xx answers and socket errors.
// Usage: node bench/mtls-client.js URL CERT KEY [SECONDS] [CONNECTIONS]
import { readFileSync } from "node:fs";
import { connect } from "node:tls";

const [url, certFile, keyFile, secondsArg, connsArg] = process.argv.slice(2);
const target = new URL(url);
const seconds = Number(secondsArg ?? 10);
const connections = Number(connsArg ?? 50);
const cert = readFileSync(certFile);
const key = readFileSync(keyFile);
const request = `GET ${target.pathname} HTTP/1.1\r\nhost: ${target.host}\r\nx-bench: 1\r\nconnection: close\r\n\r\n`;
const latencies = [];
let non2xx = 0;
let errors = 0;
const start = performance.now();
const end = start + seconds * 1_000;

function once() {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let head = "";
    // The server's certificate is self-signed; verifying it is the client's cost, not the server's.
    const socket = connect({ host: target.hostname, port: Number(target.port), cert, key, rejectUnauthorized: false, ALPNProtocols: ["http/1.1"] }, () => socket.write(request));
    socket.setEncoding("latin1");
    socket.on("data", (chunk) => {
      if (head.length < 16) head += chunk;
    });
    socket.on("error", () => {
      errors++;
      resolve();
    });
    socket.on("close", (hadError) => {
      if (hadError) return;
      if (!/^HTTP\/1\.1 2\d\d /.test(head)) non2xx++;
      latencies.push(performance.now() - t0);
      resolve();
    });
  });
}

async function loop() {
  while (performance.now() < end) await once();
}

await Promise.all(Array.from({ length: connections }, loop));
const elapsed = (performance.now() - start) / 1_000;
latencies.sort((a, b) => a - b);
const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] : 0);
console.log(`  ${connections} connections, client certificate presented`);
console.log("  Latency Distribution");
for (const p of [50, 75, 90, 99]) console.log(`     ${p}%   ${pct(p).toFixed(2)}ms`);
console.log(`  ${latencies.length} requests in ${elapsed.toFixed(2)}s`);
if (non2xx > 0) console.log(`  Non-2xx or 3xx responses: ${non2xx}`);
if (errors > 0) console.log(`  Socket errors: connect ${errors}, read 0, write 0, timeout 0`);
console.log(`Requests/sec: ${(latencies.length / elapsed).toFixed(2)}`);
console.log(`p99.9: ${Math.round(pct(99.9) * 1_000)}us`);
