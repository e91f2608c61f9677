import { SELF, env } from "cloudflare:test";
import { SignJWT, importJWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { makeBundle } from "../../src/config/bundle.js";
import { sha256Hex } from "../../src/identity/api-keys.js";
import { KV_KEYS } from "../../src/runtime/workers/kv-store.js";

interface TestEnv {
  POLICIES: KVNamespace;
  API_KEYS: KVNamespace;
  TEST_UPSTREAM_PORT: string;
  TEST_JWKS_PORT: string;
  TEST_JWKS_PRIVATE_KEY: string;
}
const testEnv = env as unknown as TestEnv;
const ISS = "https://idp.workers.test";
const KV_KEY = "mgk_stored-in-workers-kv";

beforeAll(async () => {
  const upstream = `http://127.0.0.1:${testEnv.TEST_UPSTREAM_PORT}`;
  const sources = [
    { name: "b.yaml", text: `apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: echo }\nspec: { endpoints: [{ url: "${upstream}" }] }\n` },
    {
      name: "r.yaml",
      text: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: platform }
spec:
  rules:
    - { name: cert, matches: [{ path: { type: PathPrefix, value: /cert } }], backendRefs: [{ name: echo }] }
    - { name: key, matches: [{ path: { type: PathPrefix, value: /key } }], backendRefs: [{ name: echo }] }
    - { name: remote, matches: [{ path: { type: PathPrefix, value: /remote } }], backendRefs: [{ name: echo }] }
---
apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: cert }
spec:
  targetRefs: [{ kind: HTTPRoute, name: platform, sectionName: cert }]
  clientCertificate: { required: true }
  authorization: { rules: [{ name: acme-only, action: ALLOW, principals: ["CN=*,O=acme"] }] }
---
apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: key }
spec:
  targetRefs: [{ kind: HTTPRoute, name: platform, sectionName: key }]
  apiKey: { keyStore: true }
---
apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: remote }
spec:
  targetRefs: [{ kind: HTTPRoute, name: platform, sectionName: remote }]
  jwt:
    providers: [{ name: loopback, issuer: "${ISS}", remoteJWKS: { uri: "http://127.0.0.1:${testEnv.TEST_JWKS_PORT}/jwks.json" } }]
`,
    },
  ];
  await testEnv.POLICIES.put(KV_KEYS.current, JSON.stringify(await makeBundle(sources, 1, "identity-platform-test")));
  await testEnv.API_KEYS.put(`apikey:${await sha256Hex(KV_KEY)}`, JSON.stringify({ consumer: "kv-consumer", metadata: { tier: "gold" } }));
});

const tlsClientAuth = (verified: string, subject: string) => ({
  certPresented: "1",
  certVerified: verified,
  certSubjectDNRFC2253: subject,
  certIssuerDNRFC2253: "CN=edge CA",
  certFingerprintSHA256: "AB12",
});

async function echoed(res: Response): Promise<Record<string, string | undefined>> {
  expect(res.status).toBe(200);
  return ((await res.json()) as { headers: Record<string, string | undefined> }).headers;
}

describe("identity from the Workers platform", () => {
  it("takes the client certificate Cloudflare verified from request.cf.tlsClientAuth", async () => {
    const res = await SELF.fetch("http://gw.test/cert", { cf: { tlsClientAuth: tlsClientAuth("SUCCESS", "CN=billing,O=acme") } } as RequestInit);
    expect((await echoed(res))["x-meshgate-principal"]).toBe("CN=billing,O=acme");
  });

  it("refuses a certificate Cloudflare could not verify, with its reason", async () => {
    const res = await SELF.fetch("http://gw.test/cert", { cf: { tlsClientAuth: tlsClientAuth("FAILED:certificate has expired", "CN=billing,O=acme") } } as RequestInit);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toEqual({ code: "client_certificate_invalid", message: "client certificate was not accepted: FAILED:certificate has expired" });
  });

  it("authorizes on the certificate subject", async () => {
    const res = await SELF.fetch("http://gw.test/cert", { cf: { tlsClientAuth: tlsClientAuth("SUCCESS", "CN=intruder,O=other") } } as RequestInit);
    expect(res.status).toBe(403);
  });

  it("looks API keys up in the API_KEYS KV namespace", async () => {
    expect((await echoed(await SELF.fetch("http://gw.test/key", { headers: { "x-api-key": KV_KEY } })))["x-meshgate-consumer"]).toBe("kv-consumer");
    const wrong = await SELF.fetch("http://gw.test/key", { headers: { "x-api-key": "mgk_not-there" } });
    expect(wrong.status).toBe(401);
  });

  it("verifies JWTs against a remote JWKS fetched from workerd", async () => {
    const key = await importJWK(JSON.parse(testEnv.TEST_JWKS_PRIVATE_KEY), "RS256");
    const token = await new SignJWT({ iss: ISS, sub: "worker-user" }).setProtectedHeader({ alg: "RS256", kid: "workers-1" }).setExpirationTime("5m").sign(key);
    const headers = await echoed(await SELF.fetch("http://gw.test/remote", { headers: { authorization: `Bearer ${token}` } }));
    expect(headers["x-meshgate-principal"]).toBe(`${ISS}/worker-user`);
  });
});
