import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { closedBy, openSocket, rawExchange } from "../support/raw-socket.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

let up: TestUpstream;
let gw: TestGateway;
let defaults: TestGateway;

const route = (name: string, prefix: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name} }
spec:
  rules: [{ matches: [{ path: { type: PathPrefix, value: ${prefix} } }], backendRefs: [{ name: web, port: 80 }] }]
---
`;
const traffic = (name: string, spec: string) => `apiVersion: meshgate.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: ${name} }
spec:
  targetRefs: [{ kind: HTTPRoute, name: ${name} }]
${spec}
---
`;

beforeAll(async () => {
  up = await startUpstream("body");
  const files = {
    "b.yaml": `${backendYaml("web", [up.url])}  outlierDetection: { consecutive5xx: 1, consecutiveGatewayErrors: 1, baseEjectionTime: 30s, maxEjectionPercent: 100 }\n`,
    "r.yaml":
      route("small", "/small") +
      route("unlimited", "/unlimited") +
      route("tiny", "/tiny") +
      route("retried", "/retried") +
      traffic("unlimited", "  maxRequestBodyBytes: 0") +
      traffic("tiny", "  maxRequestBodyBytes: 10") +
      traffic("retried", "  retry: { attempts: 2, codes: [503], maxBufferBytes: 65536 }"),
  };
  gw = await startTestGateway(files, { maxRequestBodyBytes: 1024 });
  defaults = await startTestGateway(files);
});

afterAll(async () => {
  await Promise.all([gw?.close(), defaults?.close()]);
  await up?.close();
});

const chunked = (path: string, size: number, chunk = 256) => {
  let body = "";
  for (let left = size; left > 0; left -= chunk) body += `${Math.min(chunk, left).toString(16)}\r\n${"c".repeat(Math.min(chunk, left))}\r\n`;
  return `POST ${path} HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n${body}0\r\n\r\n`;
};

describe("request body limit", () => {
  it("a Content-Length over the listener limit answers 413 at once, before the body is sent or any upstream called", async () => {
    const before = up.received.length;
    const socket = await openSocket(gw.gateway.port);
    const closed = closedBy(socket);
    socket.write("POST /small HTTP/1.1\r\nHost: a.test\r\nContent-Length: 2000\r\n\r\n"); // and no body at all
    const raw = await closed; // answered and closed without waiting for the 2000 bytes
    expect(raw).toMatch(/^HTTP\/1\.1 413 /);
    expect(raw).toContain('"code":"payload_too_large"');
    expect(up.received.length).toBe(before);
  });

  it("the default limit is 10 MiB: a 32 MiB Content-Length answers 413", async () => {
    const socket = await openSocket(defaults.gateway.port);
    const closed = closedBy(socket);
    socket.write(`GET /small HTTP/1.1\r\nHost: a.test\r\nContent-Length: ${32 * 1024 * 1024}\r\n\r\n`);
    expect(await closed).toMatch(/^HTTP\/1\.1 413 /);
    const ok = await fetch(`${defaults.url}/small`, { method: "POST", body: "x".repeat(64 * 1024) });
    expect(ok.status).toBe(200);
  });

  it.each(["/small", "/retried"])("a chunked body growing past the limit is cut off with 413 (%s)", async (path) => {
    const before = up.received.length;
    const res = await rawExchange(gw.gateway.port, chunked(path, 4096));
    expect(res.status).toBe(413);
    expect(res.json().error.code).toBe("payload_too_large");
    expect(up.received.length).toBe(before);
    // The cut is the request's fault: the endpoint is still in rotation.
    const next = await rawExchange(gw.gateway.port, chunked(path, 512));
    expect(next.status).toBe(200);
    expect(JSON.parse(next.body).body).toBe("c".repeat(512));
    expect(gw.gateway.upstreams.counters.ejections).toBe(0);
  });

  it("a TrafficPolicy's maxRequestBodyBytes replaces the listener's limit for its rules", async () => {
    expect((await fetch(`${gw.url}/unlimited`, { method: "POST", body: "u".repeat(256 * 1024) })).status).toBe(200);
    expect((await rawExchange(gw.gateway.port, chunked("/unlimited", 200_000, 8192))).status).toBe(200);
    expect((await fetch(`${gw.url}/tiny`, { method: "POST", body: "0123456789" })).status).toBe(200);
    const res = await fetch(`${gw.url}/tiny`, { method: "POST", body: "0123456789a" });
    expect(res.status).toBe(413);
  });
});
