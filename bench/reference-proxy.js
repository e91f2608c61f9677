// The yardstick DESIGN.md names: bare node:http + undici Pool, pool.stream straight into the
// ServerResponse. No policy at all; meshgate's goal is at least 0.8x of it.
import { createServer } from "node:http";
import { Pool } from "undici";

const [port, upstreamPort] = process.argv.slice(2).map(Number);
const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 128 });
const HOP = new Set(["connection", "keep-alive", "transfer-encoding"]);

createServer((req, res) => {
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
})
  .listen(port, "127.0.0.1", () => console.log(`reference proxy on ${port}`))
  .keepAliveTimeout = 65_000;
