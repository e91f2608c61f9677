import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

let slow: TestUpstream, flaky: TestUpstream, healthy: TestUpstream;
let deadPort: number;
let gw: TestGateway;
let flakyCalls = 0;

beforeAll(async () => {
  [slow, flaky, healthy] = (await Promise.all(["slow", "flaky", "healthy"].map(startUpstream))) as [TestUpstream, TestUpstream, TestUpstream];
  slow.respond = (req, res) => {
    const delay = Number(new URL(req.url ?? "/", "http://x").searchParams.get("delay") ?? "0");
    setTimeout(() => {
      if (!res.destroyed) res.end("slow");
    }, delay);
  };
  // Fails twice with 503, then answers: a retry with attempts >= 2 sees success.
  flaky.respond = (req, res) => {
    flakyCalls++;
    if (new URL(req.url ?? "/", "http://x").searchParams.get("always") === "1" || flakyCalls % 3 !== 0) {
      res.writeHead(503, { "x-attempt": String(flakyCalls) });
      return res.end("unavailable");
    }
    res.writeHead(200, { "x-attempt": String(flakyCalls) });
    res.end("ok");
  };
  // A port that refuses connections: bind, note the port, close.
  const probe: Server = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  deadPort = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));

  gw = await startTestGateway({
    "backends.yaml": [
      backendYaml("slow", [slow.url]),
      backendYaml("flaky", [flaky.url]),
      backendYaml("dead", [`http://127.0.0.1:${deadPort}`]),
    ].join("---\n"),
    "routes.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: resilience }
spec:
  rules:
    - matches: [{ path: { value: /request-timeout } }]
      timeouts: { request: 200ms }
      backendRefs: [{ name: slow }]
    - matches: [{ path: { value: /backend-timeout } }]
      timeouts: { request: 2s, backendRequest: 150ms }
      backendRefs: [{ name: slow }]
    - matches: [{ path: { value: /retry } }]
      retry: { codes: [503], attempts: 2, backoff: 10ms }
      backendRefs: [{ name: flaky }]
    - matches: [{ path: { value: /no-retry } }]
      backendRefs: [{ name: flaky }]
    - matches: [{ path: { value: /dead } }]
      backendRefs: [{ name: dead }]
`,
  });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([slow, flaky, healthy].map((u) => u?.close()));
});

describe("timeouts", () => {
  it("answers 504 request_timeout when the whole request exceeds timeouts.request", async () => {
    const started = performance.now();
    const res = await fetch(`${gw.url}/request-timeout?delay=2000`);
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("request_timeout");
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it("answers 504 upstream_timeout when an attempt exceeds timeouts.backendRequest", async () => {
    const res = await fetch(`${gw.url}/backend-timeout?delay=1000`);
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("upstream_timeout");
  });

  it("passes a response that arrives in time", async () => {
    const res = await fetch(`${gw.url}/backend-timeout?delay=10`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("slow");
  });
});

describe("retries", () => {
  it("retries listed codes until an attempt succeeds", async () => {
    flakyCalls = 0;
    const res = await fetch(`${gw.url}/retry`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-attempt")).toBe("3");
    expect(flakyCalls).toBe(3);
  });

  it("returns the last answer when attempts run out, after 1 + attempts tries", async () => {
    flakyCalls = 0;
    const res = await fetch(`${gw.url}/retry?always=1`);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe("unavailable");
    expect(flakyCalls).toBe(3);
  });

  it("does not retry without a retry policy", async () => {
    flakyCalls = 0;
    const res = await fetch(`${gw.url}/no-retry`);
    expect(res.status).toBe(503);
    expect(flakyCalls).toBe(1);
  });

  it("retries a POST body with its bytes intact", async () => {
    const before = flaky.received.length;
    flakyCalls = 0;
    const res = await fetch(`${gw.url}/retry`, { method: "POST", body: "payload-123" });
    expect(res.status).toBe(200);
    const bodies = flaky.received.slice(before).map((r) => r.body);
    expect(bodies).toEqual(["payload-123", "payload-123", "payload-123"]);
  });

  it("answers 503 upstream_unavailable when the endpoint refuses connections", async () => {
    const res = await fetch(`${gw.url}/dead`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("upstream_unavailable");
  });
});
