import { afterAll, beforeAll, describe, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { sign, signingKey, startJwksServer, type JwksServer, type SigningKey } from "../support/jwks-server.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";
import { ROTATION_ISSUER as ISS, keysStayAndLeave, outageKeepsKeys, rotationPolicies, type RotationDriver } from "../shared/jwks-rotation-case.js";

let upstream: TestUpstream;
let jwks: JwksServer;
let oldKey: SigningKey, newKey: SigningKey;
let gw: TestGateway;
let driver: RotationDriver;

beforeAll(async () => {
  upstream = await startUpstream("api");
  [oldKey, newKey] = await Promise.all([signingKey("old", "ES256"), signingKey("new", "ES256")]);
  jwks = await startJwksServer([oldKey.jwk]);
  gw = await startTestGateway(rotationPolicies(upstream.url, jwks.url), { accessLog: "off", logger: () => undefined });
  driver = {
    call: async (token) => {
      const res = await fetch(`${gw.url}/orders`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { error?: { code: string } };
      return { status: res.status, code: body.error?.code ?? null };
    },
    publish: async (keys) => void (jwks.keys = keys),
    fetches: async () => jwks.fetches,
  };
});

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  await jwks?.close();
});

describe("JWKS rotation and the verified-token cache", () => {
  it("keeps tokens whose key stayed, and refuses cached tokens whose key left the set", async () => {
    const [leaving, staying] = await Promise.all([sign(oldKey, { iss: ISS, sub: "leaves" }), sign(newKey, { iss: ISS, sub: "stays" })]);
    await keysStayAndLeave(driver, { old: oldKey.jwk, new: newKey.jwk, leaving, staying });
  });

  it("a JWKS host that fails keeps the cached tokens and keys (a failed fetch is no rotation)", async () => {
    const token = await sign(newKey, { iss: ISS, sub: "during-outage" });
    await outageKeepsKeys(driver, token, async (down) => void (jwks.down = down));
  });
});
