import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { until } from "../support/cli-gateway.js";
import { sign, signingKey, startJwksServer, type JwksServer, type SigningKey } from "../support/jwks-server.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

// A key taken out of a real JWKS must stop verifying the tokens it signed as soon as the gateway
// has fetched the new set, even for tokens the verified-token cache holds (it keeps them 5 min).

const ISS = "https://idp.rotation.test";
let upstream: TestUpstream;
let jwks: JwksServer;
let oldKey: SigningKey, newKey: SigningKey;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startUpstream("api");
  [oldKey, newKey] = await Promise.all([signingKey("old", "ES256"), signingKey("new", "ES256")]);
  jwks = await startJwksServer([oldKey.jwk]);
  gw = await startTestGateway(
    {
      "backend.yaml": backendYaml("api", [upstream.url]),
      "route.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: api }
spec:
  rules: [{ backendRefs: [{ name: api, port: 80 }] }]
`,
      "security.yaml": `apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: jwt }
spec:
  targetRefs: [{ kind: HTTPRoute, name: api }]
  jwt:
    providers:
      - { name: idp, issuer: ${ISS}, remoteJWKS: { uri: "${jwks.url}", cacheDuration: 300ms, minRefetchInterval: 1h } }
`,
    },
    { accessLog: "off", logger: () => undefined },
  );
});

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  await jwks?.close();
});

const call = async (token: string) => {
  const res = await fetch(`${gw.url}/orders`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: body.error?.code ?? null };
};

/** Waits for one more JWKS fetch than `before` (a refresh the gateway started), then for it to settle. */
async function refreshed(before: number): Promise<void> {
  await until(async () => jwks.fetches > before, 5_000, "a JWKS refresh");
  await new Promise((r) => setTimeout(r, 50));
}

describe("JWKS rotation and the verified-token cache", () => {
  it("keeps tokens whose key stayed, and refuses cached tokens whose key left the set", async () => {
    const staying = await sign(newKey, { iss: ISS, sub: "stays" });
    const leaving = await sign(oldKey, { iss: ISS, sub: "leaves" });
    expect(await call(leaving)).toEqual({ status: 200, code: null });
    // Both keys published: the old token keeps working after a refresh (its key is still there).
    jwks.keys = [oldKey.jwk, newKey.jwk];
    await new Promise((r) => setTimeout(r, 350));
    let before = jwks.fetches;
    // This hit is answered from the cache and starts the background refresh (stale key set).
    expect(await call(leaving)).toEqual({ status: 200, code: null });
    await refreshed(before);
    expect(await call(leaving)).toEqual({ status: 200, code: null });
    expect(await call(staying)).toEqual({ status: 200, code: null });

    // The old key is taken out. The cached verification of `leaving` must not outlive it.
    jwks.keys = [newKey.jwk];
    await new Promise((r) => setTimeout(r, 350));
    before = jwks.fetches;
    await call(leaving);
    await refreshed(before);
    expect(await call(leaving)).toEqual({ status: 401, code: "jwt_unknown_kid" });
    expect(await call(leaving)).toEqual({ status: 401, code: "jwt_unknown_kid" });
    expect(await call(staying)).toEqual({ status: 200, code: null });
  });

  it("a JWKS host that fails keeps the cached tokens and keys (a failed fetch is no rotation)", async () => {
    const token = await sign(newKey, { iss: ISS, sub: "during-outage" });
    expect((await call(token)).status).toBe(200);
    jwks.down = true;
    try {
      await new Promise((r) => setTimeout(r, 350));
      const before = jwks.fetches;
      await call(token);
      await refreshed(before);
      expect(await call(token)).toEqual({ status: 200, code: null });
    } finally {
      jwks.down = false;
    }
  });
});
