import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

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
