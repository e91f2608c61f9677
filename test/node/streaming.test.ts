import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";
import { startStreamUpstream, type StreamUpstream } from "../support/stream-upstream.js";
import { EVENTS_ROUTE, cadence, lockstep, streamingUpload } from "../shared/streaming-cases.js";

let up: TestUpstream;
let gw: TestGateway;

beforeAll(async () => {
  up = await startUpstream("stream");
  up.respond = (req, res, body) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/big") {
      const size = Number(url.searchParams.get("size"));
      res.writeHead(200, { "content-type": "application/octet-stream" }); // chunked: no content-length
      const chunk = Buffer.alloc(64 * 1024, 7);
      let sent = 0;
      const pump = () => {
        while (sent < size) {
          const n = Math.min(chunk.length, size - sent);
          sent += n;
          if (!res.write(chunk.subarray(0, n))) return void res.once("drain", pump);
        }
        res.end();
      };
      return pump();
    }
    if (url.pathname === "/redirect") {
      res.writeHead(302, { location: "http://elsewhere.example/" });
      return res.end();
    }
    res.writeHead(200, { "content-type": "text/plain", "x-length": String(Buffer.byteLength(body)) });
    res.end(String(Buffer.byteLength(body)));
  };
  gw = await startTestGateway({
    "b.yaml": backendYaml("stream", [up.url]),
    "r.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: stream }
spec:
  rules: [{ backendRefs: [{ name: stream }] }]
`,
  });
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
});

describe("streaming bodies", () => {
  it("streams a 20 MiB chunked response through intact", async () => {
    const size = 20 * 1024 * 1024;
    const res = await fetch(`${gw.url}/big?size=${size}`);
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes.length).toBe(size);
    expect(bytes.every((b) => b === 7)).toBe(true);
  });

  it("streams an 8 MiB chunked request body upstream", async () => {
    const size = 8 * 1024 * 1024;
    const result = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(`${gw.url}/upload`, { method: "POST", headers: { "transfer-encoding": "chunked" } }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve(body));
      });
      req.on("error", reject);
      const chunk = Buffer.alloc(256 * 1024, 1);
      for (let sent = 0; sent < size; sent += chunk.length) req.write(chunk);
      req.end();
    });
    expect(Number(result)).toBe(size);
  });

  it("does not follow upstream redirects", async () => {
    const res = await fetch(`${gw.url}/redirect`, { redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("http://elsewhere.example/");
  });

  it("serves many concurrent requests over pooled keep-alive connections", async () => {
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => fetch(`${gw.url}/echo`, { method: "POST", body: "x".repeat(i) }).then((r) => r.text())));
    expect(results).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
  });
});

describe("server-sent events and streaming bodies (shared cases)", () => {
  let events: StreamUpstream;
  let sgw: TestGateway;

  beforeAll(async () => {
    events = await startStreamUpstream();
    sgw = await startTestGateway({
      "b.yaml": backendYaml("events", [events.url]),
      "r.yaml": EVENTS_ROUTE,
    });
  });

  afterAll(async () => {
    await sgw?.close();
    await events?.close();
  });

  it("delivers each event before the upstream sends the next (no buffering)", async () => {
    expect(await lockstep(sgw.url, events.url, (u, i) => fetch(u, i))).toEqual([0, 1, 2, 3, 4]);
  });

  it("the first of ten events 100 ms apart arrives long before the stream ends", async () => {
    const r = await cadence(sgw.url, (u, i) => fetch(u, i));
    expect(r.events).toBe(10);
    expect(r.streamMs).toBeGreaterThanOrEqual(900);
    expect(r.firstAfterMs).toBeLessThan(r.streamMs - 500);
  });

  it("timeouts.request bounds the time to response headers, not the stream: a 1 s stream under 300ms is whole", async () => {
    const r = await cadence(sgw.url, (u, i) => fetch(u, i), "/bounded");
    expect(r.events).toBe(10);
    expect(r.streamMs).toBeGreaterThan(300);
  });

  it("streams a request body: the upstream reads its first part while the client is still sending", async () => {
    expect(await streamingUpload(sgw.url, events.url, (u, i) => fetch(u, i))).toEqual({ status: 200, total: String(128 * 1024), sawFirstPartEarly: true });
  });

  it("a client that leaves mid-stream closes the upstream stream", async () => {
    const id = crypto.randomUUID();
    const controller = new AbortController();
    const res = await fetch(`${sgw.url}/lockstep?id=${id}&n=5`, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    const deadline = Date.now() + 3_000;
    let closed = false;
    while (!closed && Date.now() < deadline) {
      closed = (await (await fetch(`${events.url}/closed?id=${id}`)).text()) === "true";
      if (!closed) await new Promise((r) => setTimeout(r, 20));
    }
    expect(closed).toBe(true);
  });
});
