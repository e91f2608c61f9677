import { SELF, env } from "cloudflare:test";
import { SignJWT, exportJWK, generateKeyPair, type JWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { makeBundle } from "../../src/config/bundle.js";
import { KV_KEYS } from "../../src/runtime/workers/kv-store.js";
import { ROTATION_ISSUER as ISS, keysStayAndLeave, outageKeepsKeys, rotationPolicies, type RotationDriver } from "../shared/jwks-rotation-case.js";

// The rotation cases inside workerd, against a loopback JWKS this test rewrites over HTTP. The
// Worker refetches in ctx.waitUntil, so this also shows the refresh is not cut off with the response.

interface TestEnv {
  POLICIES: KVNamespace;
  TEST_UPSTREAM_PORT: string;
  TEST_ROTATING_JWKS_PORT: string;
}
const testEnv = env as unknown as TestEnv;
const jwksBase = () => `http://127.0.0.1:${testEnv.TEST_ROTATING_JWKS_PORT}`;

interface Key {
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}
async function key(kid: string): Promise<Key> {
  const pair = await generateKeyPair("ES256", { extractable: true });
  return { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: "ES256", use: "sig" } };
}
const sign = (k: Key, sub: string) => {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISS, sub, iat: now, exp: now + 3600 }).setProtectedHeader({ alg: "ES256", kid: k.jwk.kid! }).sign(k.privateKey);
};
async function put(path: string, body: string): Promise<void> {
  expect((await fetch(`${jwksBase()}${path}`, { method: "PUT", body })).status).toBe(204);
}

const driver: RotationDriver = {
  call: async (token) => {
    const res = await SELF.fetch("http://gw.test/orders", { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { error?: { code: string } };
    return { status: res.status, code: body.error?.code ?? null };
  },
  publish: (keys) => put("/keys", JSON.stringify({ keys })),
  fetches: async () => ((await (await fetch(`${jwksBase()}/fetches`)).json()) as { fetches: number }).fetches,
};
let oldKey: Key, newKey: Key;

beforeAll(async () => {
  [oldKey, newKey] = await Promise.all([key("old"), key("new")]);
  await driver.publish([oldKey.jwk]);
  const files = rotationPolicies(`http://127.0.0.1:${testEnv.TEST_UPSTREAM_PORT}`, `${jwksBase()}/.well-known/jwks.json`);
  const sources = Object.entries(files).map(([name, text]) => ({ name, text }));
  await testEnv.POLICIES.put(KV_KEYS.current, JSON.stringify(await makeBundle(sources, 1, "jwks-rotation-test")));
});

describe("JWKS rotation in workerd", () => {
  it("keeps tokens whose key stayed, and refuses cached tokens whose key left the set", async () => {
    const [leaving, staying] = await Promise.all([sign(oldKey, "leaves"), sign(newKey, "stays")]);
    await keysStayAndLeave(driver, { old: oldKey.jwk, new: newKey.jwk, leaving, staying });
  });

  it("a JWKS host that fails keeps the cached tokens and keys (a failed fetch is no rotation)", async () => {
    await outageKeepsKeys(driver, await sign(newKey, "during-outage"), (down) => put("/down", String(down)));
  });
});
