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

describe("JWT providers with local keys (PEM public keys and HS256 secrets)", async () => {
  const { exportSPKI, base64url } = await import("jose");
  const rsa = await generateKeyPair("RS256", { extractable: true });
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const app = new Hono<{ Variables: MeshgateVariables }>();
  app.use(
    "*",
    jwtIdentity({
      providers: [
        { name: "pem", issuer: "https://pem.test", localKeys: [{ kid: "rsa-1", alg: "RS256", pem: await exportSPKI(rsa.publicKey) }] },
        { name: "shared", issuer: "https://hs.test", algorithms: ["HS256"], localKeys: [{ alg: "HS256", secret: base64url.encode(secret) }] },
      ],
    }),
  );
  app.get("/", (c) => c.text(c.get("principal")?.id ?? ""));
  const call = async (token: string) => {
    const res = await app.request("/", { headers: { authorization: `Bearer ${token}` } });
    return res.status === 200 ? await res.text() : ((await res.json()) as { error: { code: string } }).error.code;
  };

  it("verifies RS256 with a PEM key, picked by kid", async () => {
    expect(await call(await new SignJWT({ sub: "p" }).setProtectedHeader({ alg: "RS256", kid: "rsa-1" }).setIssuer("https://pem.test").setExpirationTime("5m").sign(rsa.privateKey))).toBe("https://pem.test/p");
    expect(await call(await new SignJWT({ sub: "p" }).setProtectedHeader({ alg: "RS256", kid: "rsa-2" }).setIssuer("https://pem.test").setExpirationTime("5m").sign(rsa.privateKey))).toBe("jwt_unknown_kid");
  });

  it("verifies HS256 with the shared secret, and only with it", async () => {
    expect(await call(await new SignJWT({ sub: "h" }).setProtectedHeader({ alg: "HS256" }).setIssuer("https://hs.test").setExpirationTime("5m").sign(secret))).toBe("https://hs.test/h");
    expect(await call(await new SignJWT({ sub: "h" }).setProtectedHeader({ alg: "HS256" }).setIssuer("https://hs.test").setExpirationTime("5m").sign(crypto.getRandomValues(new Uint8Array(32))))).toBe("jwt_bad_signature");
  });

  it("never accepts HS256 for the PEM provider (the public key is not a secret)", async () => {
    const pem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    expect(await call(await new SignJWT({ sub: "x" }).setProtectedHeader({ alg: "HS256", kid: "rsa-1" }).setIssuer("https://pem.test").setExpirationTime("5m").sign(pem))).toBe("jwt_alg_not_allowed");
  });
});
