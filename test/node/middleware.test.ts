import { Hono } from "hono";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { jwtIdentity, rateLimit, securityPolicy, type MeshgateVariables } from "../../src/index.js";

const ISS = "https://idp.middleware.test";

describe("the stages as Hono middleware", async () => {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kty: "EC", kid: "m1", alg: "ES256" };
  const token = (sub: string) => new SignJWT({ sub }).setProtectedHeader({ alg: "ES256", kid: "m1" }).setIssuer(ISS).setExpirationTime("5m").sign(privateKey);

  const app = new Hono<{ Variables: MeshgateVariables }>();
  app.use("/api/*", jwtIdentity({ providers: [{ name: "idp", issuer: ISS, localJWKS: { keys: [jwk] } }] }));
  app.use("/api/*", rateLimit({ rules: [{ name: "per-user", key: "principal", limit: { requests: 2, period: "10s" } }] }));
  app.use("/admin/*", securityPolicy({ authorization: { rules: [{ name: "no-admin", action: "DENY", paths: ["/admin/*"] }] } }));
  app.get("/api/me", (c) => c.json({ principal: c.get("principal")?.id ?? null }));
  app.get("/admin/x", (c) => c.text("never"));

  it("verifies JWTs and exposes the principal", async () => {
    const res = await app.request("/api/me", { headers: { authorization: `Bearer ${await token("ann")}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ principal: `${ISS}/ann` });
    expect(res.headers.get("ratelimit")).toBe('"per-user";r=1;t=5');
  });

  it("answers with the gateway's error contract", async () => {
    const res = await app.request("/api/me");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="meshgate"');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("jwt_missing");
    expect((await app.request("/admin/x")).status).toBe(403);
  });

  it("limits per principal", async () => {
    const t = await token("bob");
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await app.request("/api/me", { headers: { authorization: `Bearer ${t}` } })).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it("refuses an invalid spec when the app is built, naming the field", () => {
    expect(() => rateLimit({ rules: [{ name: "x", key: "header", limit: { requests: 1, period: "1s" } }] })).toThrow("RateLimitPolicy middleware:document#0: spec.rules[0].keyHeader: keyHeader is required with key: header (and only then)");
  });
});
