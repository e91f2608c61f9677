import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SnapshotHolder } from "../../src/config/snapshot-holder.js";
import type { GatewayRequest } from "../../src/http/exchange.js";
import { HeaderList } from "../../src/http/header-list.js";
import { createPipeline } from "../../src/pipeline.js";
import { UndiciTransport } from "../../src/runtime/node/undici-transport.js";
import { FetchTransport } from "../../src/upstream/fetch-transport.js";
import { UpstreamState } from "../../src/upstream/upstream-state.js";
import { systemClock } from "../../src/http/runtime-env.js";
import { backendYaml } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

// A request the transport refuses to build (here: a header value no HTTP/1.1 field can carry,
// as a claim copied into a header could produce) is the gateway's fault: 400
// request_not_forwardable, never an ejection, a retry or a breaker count.
let a: TestUpstream, b: TestUpstream;
const holder = new SnapshotHolder();

beforeAll(async () => {
  [a, b] = await Promise.all([startUpstream("a"), startUpstream("b")]);
  const text = `${backendYaml("pair", [a.url, b.url])}  outlierDetection: { consecutive5xx: 2, consecutiveGatewayErrors: 2, baseEjectionTime: 30s, maxEjectionPercent: 100 }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: pair }
spec:
  rules: [{ name: all, backendRefs: [{ name: pair, port: 80 }] }]
---
apiVersion: meshgate.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: retry }
spec:
  targetRefs: [{ kind: HTTPRoute, name: pair }]
  retry: { attempts: 3, codes: [502, 503], on: [connect-failure, reset, timeout], budget: { ratio: 1, minPerSecond: 100 } }
`;
  const loaded = await holder.load([{ name: "all.yaml", text }], { location: "inline", files: ["all.yaml"] });
  expect(loaded.ok).toBe(true);
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

function request(headers: string[]): GatewayRequest {
  return { method: "GET", scheme: "http", host: "example.com", hostPort: null, listenerPort: 80, path: "/x", query: "", headers: new HeaderList(["host", "example.com", ...headers]), body: null, clientAddress: "127.0.0.1", startTime: performance.now() };
}

describe.each([
  ["undici", () => new UndiciTransport()],
  ["fetch", () => new FetchTransport()],
])("a request the %s transport cannot send", (_, transport) => {
  it("answers 400 request_not_forwardable and never counts against the endpoints", async () => {
    const upstreams = new UpstreamState(systemClock);
    const pipeline = createPipeline({ snapshot: () => holder.current(), transport: transport(), upstreams });
    const before = a.received.length + b.received.length;
    for (let i = 0; i < 10; i++) {
      const res = await pipeline(request(["x-name", "Zo\u00eb \u674e\u96f7"]));
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body as string).error.code).toBe("request_not_forwardable");
    }
    expect(a.received.length + b.received.length).toBe(before);
    expect(upstreams.counters.retries).toBe(0);
    expect(upstreams.counters.ejections).toBe(0);
    for (const [, health] of upstreams.health.entries()) for (const e of health.endpoints.values()) expect(e.consecutiveGatewayErrors).toBe(0);
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const res = await pipeline(request([]));
      expect(res.status).toBe(200);
      seen.add(res.headers.get("x-upstream")!);
      (res.body as { cancel(): void }).cancel();
    }
    expect(seen).toEqual(new Set(["a", "b"]));
  });
});
