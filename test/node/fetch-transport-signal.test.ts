import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SnapshotHolder } from "../../src/config/snapshot-holder.js";
import type { GatewayRequest } from "../../src/http/exchange.js";
import { HeaderList } from "../../src/http/header-list.js";
import { createPipeline } from "../../src/pipeline.js";
import { FetchTransport } from "../../src/upstream/fetch-transport.js";
import { UpstreamState } from "../../src/upstream/upstream-state.js";
import { systemClock } from "../../src/http/runtime-env.js";
import { backendYaml } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

// Workers hand the pipeline no client signal. An attempt nothing outside can cancel (no
// client signal, no deadline, no response-headers timer) then reaches fetch without a signal,
// and one with only the headers timer gets one controller, not two and a listener, while
// every way an attempt can still end early (request timeout, per-try timeout, a client
// that does pass a signal and leaves) must keep working through the same transport.
let up: TestUpstream;
const holder = new SnapshotHolder();
const seen: (AbortSignal | null | undefined)[] = [];
const transport = new FetchTransport((input, init) => {
  seen.push(init?.signal);
  return fetch(input, init);
});
const closed: string[] = [];

beforeAll(async () => {
  up = await startUpstream("up");
  up.respond = (req, res) => {
    if (req.url?.startsWith("/hang")) {
      res.on("close", () => closed.push(req.url ?? ""));
      return; // never answers: only a timeout or a cancellation ends the exchange
    }
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
  };
  const route = (name: string, prefix: string, timeouts: string) => `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name} }
spec:
  rules:
    - matches: [{ path: { type: PathPrefix, value: ${prefix} } }]
      backendRefs: [{ name: up, port: 80 }]${timeouts}
`;
  const text = backendYaml("up", [up.url]) +
    route("plain", "/", "") +
    route("no-deadline", "/unbounded", "\n      timeouts: { request: 0s }") +
    route("request-timeout", "/hang/request", "\n      timeouts: { request: 150ms }") +
    route("backend-timeout", "/hang/backend", "\n      timeouts: { request: 5s, backendRequest: 150ms }");
  const loaded = await holder.load([{ name: "all.yaml", text }], { location: "inline", files: ["all.yaml"] });
  expect(loaded.ok).toBe(true);
});

afterAll(async () => {
  await up?.close();
});

function request(path: string): GatewayRequest {
  return { method: "GET", scheme: "http", host: "example.com", hostPort: null, listenerPort: 80, path, query: "", headers: new HeaderList(["host", "example.com"]), body: null, clientAddress: "127.0.0.1", startTime: performance.now() };
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
}

describe("the fetch transport without a client signal", () => {
  const pipeline = createPipeline({ snapshot: () => holder.current(), transport, upstreams: new UpstreamState(systemClock) });

  it("sends a request that asked for no deadline with no signal at all", async () => {
    seen.length = 0;
    const res = await pipeline(request("/unbounded"));
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0] ?? null).toBeNull();
    (res.body as { cancel(): void }).cancel();
  });

  it("still ends a hung upstream at the request timeout and closes its connection", async () => {
    seen.length = 0;
    const started = performance.now();
    const res = await pipeline(request("/hang/request"));
    expect(res.status).toBe(504);
    expect(JSON.parse(res.body as string).error.code).toBe("request_timeout");
    expect(performance.now() - started).toBeLessThan(4000);
    expect(seen[0]).toBeInstanceOf(AbortSignal);
    await waitFor(() => closed.includes("/hang/request"));
    expect(closed).toContain("/hang/request");
  });

  it("still ends a hung upstream at the per-try timeout and closes its connection", async () => {
    seen.length = 0;
    const res = await pipeline(request("/hang/backend"));
    expect(res.status).toBe(504);
    expect(JSON.parse(res.body as string).error.code).toBe("upstream_timeout");
    expect(seen[0]).toBeInstanceOf(AbortSignal);
    await waitFor(() => closed.includes("/hang/backend"));
    expect(closed).toContain("/hang/backend");
  });

  it("cancels the upstream exchange when a client that passed a signal leaves", async () => {
    const client = new AbortController();
    const pending = pipeline(request("/hang/client"), client.signal);
    await waitFor(() => up.received.some((r) => r.url === "/hang/client"));
    expect(up.received.some((r) => r.url === "/hang/client")).toBe(true);
    client.abort(new Error("client went away"));
    const res = await pending.catch((err: unknown) => err);
    // The gateway answers nobody (the client is gone) but must let go of the upstream.
    expect(res).toBeDefined();
    await waitFor(() => closed.includes("/hang/client"));
    expect(closed).toContain("/hang/client");
  });
});
