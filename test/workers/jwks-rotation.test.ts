import { SELF, env } from "cloudflare:test";
import { SignJWT, exportJWK, generateKeyPair, type JWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { makeBundle } from "../../src/config/bundle.js";
import { KV_KEYS } from "../../src/runtime/workers/kv-store.js";

// The Node rotation test (test/node/jwks-rotation.test.ts) inside workerd: a key taken out of a
// real JWKS (a loopback server this test rewrites with PUT /keys) must stop verifying the tokens
// it signed once the Worker has refetched the set, even tokens its verified-token cache holds.
// The refresh runs in ctx.waitUntil, so this also shows it is not cut off with the response.

interface TestEnv {
  POLICIES: KVNamespace;
  TEST_UPSTREAM_PORT: string;
  TEST_ROTATING_JWKS_PORT: string;
}
const testEnv = env as unknown as TestEnv;
const ISS = "https://idp.rotation.workers.test";
const jwksBase = () => `http://127.0.0.1:${testEnv.TEST_ROTATING_JWKS_PORT}`;

interface Key {
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
  readonly kid: string;
}
let oldKey: Key, newKey: Key;

async function key(kid: string): Promise<Key> {
  const pair = await generateKeyPair("ES256", { extractable: true });
  return { kid, privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: "ES256", use: "sig" } };
}
const sign = (k: Key, sub: string) =>
  new SignJWT({ iss: ISS, sub, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600 }).setProtectedHeader({ alg: "ES256", kid: k.kid }).sign(k.privateKey);

async function publish(keys: JWK[]): Promise<void> {
  const res = await fetch(`${jwksBase()}/keys`, { method: "PUT", body: JSON.stringify({ keys }) });
  expect(res.status).toBe(204);
}
const fetches = async () => ((await (await fetch(`${jwksBase()}/fetches`)).json()) as { fetches: number }).fetches;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call(token: string): Promise<{ status: number; code: string | null }> {
  const res = await SELF.fetch("http://gw.test/orders", { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: body.error?.code ?? null };
}

/** Waits for one more JWKS fetch than `before` (the refresh the Worker started), then lets it settle. */
async function refreshed(before: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while ((await fetches()) <= before) {
    if (Date.now() > deadline) throw new Error("the Worker never refetched the JWKS");
    await sleep(20);
  }
  await sleep(50);
}

beforeAll(async () => {
  [oldKey, newKey] = await Promise.all([key("old"), key("new")]);
  await publish([oldKey.jwk]);
  const sources = [
    { name: "b.yaml", text: `apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: api }\nspec: { endpoints: [{ url: "http://127.0.0.1:${testEnv.TEST_UPSTREAM_PORT}" }] }\n` },
    { name: "r.yaml", text: `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: api }\nspec:\n  rules: [{ backendRefs: [{ name: api, port: 80 }] }]\n` },
    {
      name: "s.yaml",
      text: `apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: jwt }
spec:
  targetRefs: [{ kind: HTTPRoute, name: api }]
  jwt:
    providers:
      - { name: idp, issuer: ${ISS}, remoteJWKS: { uri: "${jwksBase()}/.well-known/jwks.json", cacheDuration: 300ms, minRefetchInterval: 1h } }
`,
    },
  ];
  await testEnv.POLICIES.put(KV_KEYS.current, JSON.stringify(await makeBundle(sources, 1, "jwks-rotation-test")));
});

describe("JWKS rotation in workerd", () => {
  it("keeps tokens whose key stayed, and refuses cached tokens whose key left the set", async () => {
    const staying = await sign(newKey, "stays");
    const leaving = await sign(oldKey, "leaves");
    expect(await call(leaving)).toEqual({ status: 200, code: null });

    await publish([oldKey.jwk, newKey.jwk]);
    await sleep(350);
    let before = await fetches();
    // Served from the verified-token cache; the stale set is refetched in the background.
    expect(await call(leaving)).toEqual({ status: 200, code: null });
    await refreshed(before);
    expect(await call(leaving)).toEqual({ status: 200, code: null });
    expect(await call(staying)).toEqual({ status: 200, code: null });

    await publish([newKey.jwk]);
    await sleep(350);
    before = await fetches();
    await call(leaving);
    await refreshed(before);
    expect(await call(leaving)).toEqual({ status: 401, code: "jwt_unknown_kid" });
    expect(await call(leaving)).toEqual({ status: 401, code: "jwt_unknown_kid" });
    expect(await call(staying)).toEqual({ status: 200, code: null });
  });
});
