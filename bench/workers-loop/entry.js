// The Worker bench/workers-loop.js runs: the meshgate Worker (src/runtime/workers/worker.ts) called
// in a loop inside one request, its upstream fetch answered in the isolate (globalThis.fetch
// swapped for the loop), so workerd's CPU for the request is the Worker's own work per call
// times N, with no network, no wrk and no neighbour's noise in the figure.
// GET /?mode=meshgate|reference&path=/plain&n=20000
import worker from "../../src/runtime/workers/worker.ts";
export { RateLimiter } from "../../src/runtime/workers/worker.ts";

const BODY = "x".repeat(100);
const UPSTREAM_HEADERS = [["content-type", "text/plain"], ["content-length", "100"], ["date", "Wed, 02 Dec 2026 12:00:00 GMT"]];
const CLIENT_HEADERS = [["host", "bench.test"], ["user-agent", "wrk"], ["accept", "*/*"], ["x-bench", "1"], ["cf-connecting-ip", "192.0.2.10"]];

/** An upstream that answers at once; it takes the request apart as fetch would. */
function answer(input, init) {
  void new Request(input, init);
  return Promise.resolve(new Response(BODY, { status: 200, headers: UPSTREAM_HEADERS }));
}

/** The fetch-only Worker bench/workers-cpu.js compares against. */
function reference(request) {
  const url = new URL(request.url);
  return fetch("http://127.0.0.1:9" + url.pathname + url.search, { method: request.method, headers: request.headers, body: request.body });
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") ?? "1000");
    const mode = url.searchParams.get("mode") ?? "meshgate";
    const path = url.searchParams.get("path") ?? "/plain";
    const extra = JSON.parse(url.searchParams.get("headers") ?? "[]");
    const real = globalThis.fetch;
    globalThis.fetch = answer;
    try {
      for (let i = 0; i < n; i++) {
        const req = new Request(`http://bench.test${path}`, { headers: [...CLIENT_HEADERS, ...extra] });
        const res = mode === "reference" ? await reference(req) : await worker.fetch(req, env, ctx);
        if (res.status !== 200) return new Response(`${mode} ${path} answered ${res.status}: ${await res.text()}`, { status: 500 });
        await res.arrayBuffer();
      }
    } finally {
      globalThis.fetch = real;
    }
    return new Response("ok");
  },
};
