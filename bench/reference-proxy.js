// The yardstick DESIGN.md names: bare node:http + undici Pool, pool.stream straight into the
// ServerResponse. No policy at all; meshgate's goal is at least 0.8x of it.
// With CERT and KEY files it serves HTTPS instead (node:https, same handler): the bare Node TLS
// proxy the HTTPS section measures meshgate's TLS listener against; with CLIENT_CA too it requires
// a client certificate signed by it (requestCert + rejectUnauthorized: the mTLS handshake row).
// With REFERENCE_FORWARDING=1 it also adds what DESIGN.md contract 3 makes every meshgate request
// carry (x-forwarded-for/-proto/-host, a new x-request-id and W3C traceparent), the cheapest way
// plain Node offers (ids are slices of one hex string per 4 KiB of random bytes, as meshgate's are;
// three crypto.randomUUID() calls per request cost more than the headers themselves): the same
// proxy doing the same contracted work, and nothing else.
// Usage: node bench/reference-proxy.js PORT UPSTREAM_PORT [CERT KEY [CLIENT_CA]]
import { randomFillSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { Pool } from "undici";

const [portArg, upstreamArg, certFile, keyFile, caFile] = process.argv.slice(2);
const [port, upstreamPort] = [Number(portArg), Number(upstreamArg)];
const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 128 });
const HOP = new Set(["connection", "keep-alive", "transfer-encoding"]);
const FORWARDING = process.env.REFERENCE_FORWARDING === "1";
const scheme = certFile ? "https" : "http";
const POOL = Buffer.alloc(4096);
let hex = "";
let offset = POOL.length;
function randomHex(bytes) {
  if (offset + bytes > POOL.length) [hex, offset] = [randomFillSync(POOL).toString("hex"), 0];
  offset += bytes;
  return hex.slice((offset - bytes) * 2, offset * 2);
}

function proxy(req, res) {
  const headers = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (!HOP.has(req.rawHeaders[i].toLowerCase())) headers.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  if (FORWARDING) {
    const id = randomHex(16);
    const requestId = `${id.slice(0, 8)}-${id.slice(8, 12)}-4${id.slice(13, 16)}-a${id.slice(17, 20)}-${id.slice(20)}`;
    headers.push("x-forwarded-for", req.socket.remoteAddress, "x-forwarded-proto", scheme, "x-forwarded-host", req.headers.host ?? "", "x-request-id", requestId, "traceparent", `00-${randomHex(16)}-${randomHex(8)}-01`);
  }
  pool
    .stream({ path: req.url, method: req.method, headers, body: req.method === "GET" || req.method === "HEAD" ? null : req }, ({ statusCode, headers: h }) => {
      const out = {};
      for (const [k, v] of Object.entries(h)) if (!HOP.has(k)) out[k] = v;
      res.writeHead(statusCode, out);
      return res;
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
}

const mtls = caFile ? { ca: readFileSync(caFile), requestCert: true, rejectUnauthorized: true } : {};
const server = certFile ? createHttpsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile), ...mtls }, proxy) : createServer(proxy);
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => console.log(`reference proxy on ${port}${FORWARDING ? " (adding forwarding headers)" : ""}${certFile ? (caFile ? " (https, client certificate required)" : " (https)") : ""}`));
// Exit through process.exit so `node --cpu-prof` writes its profile when the bench stops it.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
