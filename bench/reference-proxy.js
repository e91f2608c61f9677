// The yardstick DESIGN.md names: bare node:http + undici Pool, pool.stream straight into the
// ServerResponse. No policy at all; meshgate's goal is at least 0.8x of it.
// With CERT and KEY files it serves HTTPS instead (node:https, same handler): the bare Node TLS
// proxy the HTTPS section measures meshgate's TLS listener against; with CLIENT_CA too it requires
// a client certificate signed by it (requestCert + rejectUnauthorized: the mTLS handshake row).
// Usage: node bench/reference-proxy.js PORT UPSTREAM_PORT [CERT KEY [CLIENT_CA]]
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { Pool } from "undici";

const [portArg, upstreamArg, certFile, keyFile, caFile] = process.argv.slice(2);
const [port, upstreamPort] = [Number(portArg), Number(upstreamArg)];
const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 128 });
const HOP = new Set(["connection", "keep-alive", "transfer-encoding"]);

function proxy(req, res) {
  const headers = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (!HOP.has(req.rawHeaders[i].toLowerCase())) headers.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
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
server.listen(port, "127.0.0.1", () => console.log(`reference proxy on ${port}${certFile ? (caFile ? " (https, client certificate required)" : " (https)") : ""}`));
// Exit through process.exit so `node --cpu-prof` writes its profile when the bench stops it.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
