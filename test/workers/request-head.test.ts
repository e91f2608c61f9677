import { SELF, env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { makeBundle } from "../../src/config/bundle.js";
import { KV_KEYS } from "../../src/runtime/workers/kv-store.js";

interface TestEnv {
  POLICIES: KVNamespace;
  TEST_UPSTREAM_PORT: string;
}
const testEnv = env as unknown as TestEnv;

// The same refusals as on Node (test/node/request-head.test.ts), through the Worker's fetch entry.
beforeAll(async () => {
  const upstream = `http://127.0.0.1:${testEnv.TEST_UPSTREAM_PORT}`;
  const text = `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: up }
spec: { endpoints: [{ url: "${upstream}" }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: deny }
spec:
  hostnames: [deny.test]
  rules: [{ backendRefs: [{ name: up, port: 80 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: catch-all }
spec:
  rules: [{ backendRefs: [{ name: up, port: 80 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: limited }
spec:
  hostnames: [limit.test]
  rules: [{ backendRefs: [{ name: up, port: 80 }] }]
---
apiVersion: meshgate.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: limited }
spec:
  targetRefs: [{ kind: HTTPRoute, name: limited }]
  maxRequestBodyBytes: 16
---
apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: deny-admin }
spec:
  targetRefs: [{ kind: HTTPRoute, name: deny }]
  authorization:
    rules: [{ name: no-admin, action: DENY, paths: ["/admin", "/admin/*"] }]
`;
  const bundle = await makeBundle([{ name: "all.yaml", text }], 1, "request-head-test");
  await testEnv.POLICIES.put(KV_KEYS.current, JSON.stringify(bundle));
});

describe("request head validation in workerd", () => {
  it.each(["x@deny.test", "deny.test#x", "deny.test/x", "deny.test?x", "deny.test\\x", "deny%2etest", "deny.test,x", "deny.test:0"])("Host %j answers 400", async (host) => {
    const res = await SELF.fetch("http://deny.test/admin", { headers: { host } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("bad_request");
  });

  it("a fragment never slips past a rule (workerd drops it before the Worker runs; the Worker refuses any left)", async () => {
    const res = await SELF.fetch("http://deny.test/admin#x");
    expect(res.status).toBe(403);
  });

  it("a valid Host routes with its policy", async () => {
    expect((await SELF.fetch("http://deny.test/admin")).status).toBe(403);
    expect((await SELF.fetch("http://other.test/admin", { headers: { host: "DENY.test." } })).status).toBe(403);
  });
});

describe("admin token in workerd", () => {
  it("answers 401 to every wrong or missing token and serves the right one", async () => {
    for (const authorization of [undefined, "Bearer wrong", "Bearer test-admin-token-", "Bearer test-admin-toke", "test-admin-token", "Bearer "]) {
      const res = await SELF.fetch("http://deny.test/__meshgate/config", { headers: authorization === undefined ? {} : { authorization } });
      expect(res.status, String(authorization)).toBe(401);
    }
    expect((await SELF.fetch("http://deny.test/__meshgate/config", { headers: { authorization: "Bearer test-admin-token" } })).status).toBe(200);
  });
});

describe("request body limit in workerd", () => {
  it("answers 413 for a Content-Length over the limit and for a streamed body that grows past it", async () => {
    const over = await SELF.fetch("http://limit.test/x", { method: "POST", body: "x".repeat(17) });
    expect(over.status).toBe(413);
    expect(((await over.json()) as { error: { code: string } }).error.code).toBe("payload_too_large");
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode("y".repeat(8)));
        controller.close();
      },
    });
    const streamed = await SELF.fetch("http://limit.test/x", { method: "POST", body: stream, duplex: "half" } as RequestInit);
    expect(streamed.status).toBe(413);
    // The upstream (an echo) never answered a truncated body as if it were whole.
    expect(await streamed.text()).not.toContain("yyyyyyyy");
    expect((await SELF.fetch("http://limit.test/x", { method: "POST", body: "x".repeat(16) })).status).not.toBe(413);
  });
});

describe("forwarding and underscore headers in workerd", () => {
  it("an internet caller's forwarding headers, underscore spellings and traceparent do not reach the upstream", async () => {
    const res = await SELF.fetch("http://other.test/x", {
      headers: { "x-forwarded-host": "evil.test", "x-original-url": "/admin", "x-http-method-override": "DELETE", x_meshgate_principal: "admin", x_custom: "kept", "cf-connecting-ip": "203.0.113.7", traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
    });
    expect(res.status).toBe(200);
    const { headers } = (await res.json()) as { headers: Record<string, string> };
    expect(headers["x-forwarded-host"]).toBe("other.test");
    expect(headers["x-original-url"]).toBeUndefined();
    expect(headers["x-http-method-override"]).toBeUndefined();
    expect(headers["x_meshgate_principal"]).toBeUndefined();
    expect(headers["x_custom"]).toBe("kept");
    expect(headers["x-forwarded-for"]).toBe("203.0.113.7");
    expect(headers.traceparent).not.toContain("0af7651916cd43dd8448eb211c80319c");
  });
});
