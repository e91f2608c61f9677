import { SELF, env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { makeBundle } from "../../src/config/bundle.js";
import { KV_KEYS } from "../../src/runtime/workers/kv-store.js";

const testEnv = env as unknown as { POLICIES: KVNamespace };

beforeAll(async () => {
  const text = `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: secure }
spec:
  endpoints: [{ url: "https://reviews.mesh.test" }]
  tls: { clientCertificate: { binding: UPSTREAM_CERT } }
---
apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: missing-binding }
spec:
  endpoints: [{ url: "https://reviews.mesh.test" }]
  tls: { clientCertificate: { binding: NOT_BOUND } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r }
spec:
  rules:
    - { matches: [{ path: { value: /secure } }], backendRefs: [{ name: secure }] }
    - { matches: [{ path: { value: /missing } }], backendRefs: [{ name: missing-binding }] }
`;
  await testEnv.POLICIES.put(KV_KEYS.current, JSON.stringify(await makeBundle([{ name: "p.yaml", text }], 1, "upstream-mtls-test")));
});

describe("upstream mTLS on Workers", () => {
  it("sends requests for a Backend with tls.clientCertificate.binding through that binding", async () => {
    const res = await SELF.fetch("http://gw.test/secure?x=1");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ via: "UPSTREAM_CERT", url: "https://reviews.mesh.test/secure?x=1" });
  });

  it("answers 503 when the Worker does not have the binding (the error log names it; clients are not told internals)", async () => {
    const res = await SELF.fetch("http://gw.test/missing");
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toEqual({ code: "upstream_unavailable", message: "cannot connect to backend default/missing-binding" });
  });
});
