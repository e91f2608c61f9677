import { SELF, env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { makeBundle } from "../../src/config/bundle.js";
import { KV_KEYS } from "../../src/runtime/workers/kv-store.js";

interface TestEnv {
  POLICIES: KVNamespace;
  TEST_UPSTREAM_PORT: string;
  TEST_COLLECTOR_PORT: string;
}
const testEnv = env as unknown as TestEnv;

interface Exported {
  resourceSpans: { scopeSpans: { spans: { traceId: string; spanId: string; parentSpanId?: string; kind: number }[] }[] }[];
}

beforeAll(async () => {
  const bundle = await makeBundle(
    [
      { name: "b.yaml", text: `apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: web }\nspec: { endpoints: [{ url: "http://127.0.0.1:${testEnv.TEST_UPSTREAM_PORT}" }] }\n` },
      { name: "r.yaml", text: "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: web }\nspec:\n  rules: [{ backendRefs: [{ name: web }] }]\n" },
    ],
    1,
    "telemetry-test",
  );
  await testEnv.POLICIES.put(KV_KEYS.current, JSON.stringify(bundle));
});

describe("telemetry in workerd", () => {
  it("exports spans to an OTLP collector through waitUntil, parented on the caller and the gateway", async () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const caller = "b7ad6b7169203331";
    const spans = async () => {
      const all = (await (await fetch(`http://127.0.0.1:${testEnv.TEST_COLLECTOR_PORT}/received`)).json()) as Exported[];
      return all.flatMap((e) => e.resourceSpans[0]!.scopeSpans[0]!.spans).filter((s) => s.traceId === traceId);
    };
    const deadline = Date.now() + 8_000;
    for (;;) {
      // A trusted caller (loopback, the default trusted proxy) continues its trace; untrusted ones
      // start a new one (test/node/forwarding-headers.test.ts).
      const res = await SELF.fetch("http://edge.example.com/x", { headers: { traceparent: `00-${traceId}-${caller}-01`, "cf-connecting-ip": "127.0.0.1" } });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      await new Promise((r) => setTimeout(r, 300));
      if ((await spans()).some((s) => s.kind === 3)) break;
      if (Date.now() > deadline) throw new Error("no spans reached the collector");
      await new Promise((r) => setTimeout(r, 900));
    }
    const found = await spans();
    const server = found.find((s) => s.kind === 2)!;
    const client = found.find((s) => s.kind === 3 && s.parentSpanId === server.spanId);
    expect(server.parentSpanId).toBe(caller);
    expect(client).toBeDefined();
  });

  it("serves per-isolate Prometheus metrics on the protected admin path", async () => {
    await (await SELF.fetch("http://edge.example.com/metrics-probe")).arrayBuffer();
    const res = await SELF.fetch("http://edge.example.com/__meshgate/metrics", { headers: { authorization: "Bearer test-admin-token" } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/meshgate_requests_total\{route="default\/web\/rule-0",backend="default\/web",endpoint="http:\/\/127\.0\.0\.1:\d+",code="200",flags="-"\} \d+/);
  });
});
