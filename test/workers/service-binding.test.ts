import { SELF, env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { makeBundle } from "../../src/config/bundle.js";
import { KV_KEYS } from "../../src/runtime/workers/kv-store.js";

// A Backend endpoint that is a Workers service binding: the auxiliary Worker "reviews-aux" is
// bound as REVIEWS (vitest.config.ts) and called with env.REVIEWS.fetch(request), no network.
const testEnv = env as unknown as { POLICIES: KVNamespace };

interface Echo { worker: string; calls: number; url: string; method: string; body: string; headers: Record<string, string> }

beforeAll(async () => {
  const text = `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: reviews }
spec:
  endpoints: [{ binding: REVIEWS }]
---
apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: unbound }
spec:
  endpoints: [{ binding: NOT_BOUND }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r }
spec:
  rules:
    - matches: [{ path: { value: /reviews } }]
      filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: x-via, value: meshgate }] } }]
      backendRefs: [{ name: reviews, port: 9080 }]
    - matches: [{ path: { value: /reviews/fail } }]
      backendRefs: [{ name: reviews, port: 9080 }]
      retry: { attempts: 2, codes: [503] }
    - matches: [{ path: { value: /unbound } }]
      backendRefs: [{ name: unbound, port: 9080 }]
`;
  await testEnv.POLICIES.put(KV_KEYS.current, JSON.stringify(await makeBundle([{ name: "p.yaml", text }], 1, "service-binding-test")));
});

describe("Backend endpoints that are service bindings (workerd)", () => {
  it("calls the bound Worker with the request's method, Host, path, query, body and forwarding headers", async () => {
    // gw.test names no Service, so the ingress route (and its filter) applies: an authority naming
    // Service reviews would take the mesh default route, which forwards the request unchanged.
    const res = await SELF.fetch("http://gw.test/reviews/1?x=2", { method: "POST", body: "hello", headers: { "x-request-id": "rid-1" } });
    expect(res.status).toBe(200);
    const echo = (await res.json()) as Echo;
    expect(echo.worker).toBe("reviews-aux");
    expect(echo.method).toBe("POST");
    expect(echo.body).toBe("hello");
    expect(new URL(echo.url).host).toBe("gw.test");
    expect(new URL(echo.url).pathname + new URL(echo.url).search).toBe("/reviews/1?x=2");
    expect(echo.headers["x-via"]).toBe("meshgate");
    expect(echo.headers["x-forwarded-proto"]).toBe("http");
    expect(echo.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  });

  it("retries a bound Worker's 503 like any upstream's, and says 503 after the attempts", async () => {
    const calls = async () => ((await (await SELF.fetch("http://gw.test/reviews/count")).json()) as { calls: number }).calls;
    const before = await calls();
    const res = await SELF.fetch("http://gw.test/reviews/fail");
    expect(res.status).toBe(503);
    expect(await res.text()).toBe("down");
    // The first try and two retries reached the bound Worker, then this count request.
    expect((await calls()) - before).toBe(4);
  });

  it("answers 503 upstream_unavailable (a JSON gateway error) when the binding is not in this Worker", async () => {
    const res = await SELF.fetch("http://gw.test/unbound");
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("upstream_unavailable");
    expect(body.error.message).not.toContain("at ");
  });
});
