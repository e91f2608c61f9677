import { SignJWT, base64url, exportSPKI } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { sign, signingKey, startJwksServer, type JwksServer, type SigningKey } from "../support/jwks-server.js";
import { rawRequest } from "../support/raw-request.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

const ISS = "https://idp.example.test";
let upstream: TestUpstream;
let jwks: JwksServer;
let rsa: SigningKey, ec: SigningKey, stranger: SigningKey;
let gw: TestGateway;
const logs: string[] = [];

function policies(jwksUri: string): Record<string, string> {
  return {
    "backend.yaml": backendYaml("api", [upstream.url]),
    "route.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: api }
spec:
  rules:
    - matches: [{ path: { type: PathPrefix, value: /api } }]
      backendRefs: [{ name: api, port: 80 }]
    - name: public
      matches: [{ path: { type: PathPrefix, value: /public } }]
      backendRefs: [{ name: api, port: 80 }]
`,
    "security.yaml": `apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: api-jwt }
spec:
  targetRefs: [{ kind: HTTPRoute, name: api }]
  jwt:
    providers:
      - name: idp
        issuer: ${ISS}
        audiences: [meshgate]
        remoteJWKS: { uri: "${jwksUri}", minRefetchInterval: 1h }
        claimToHeaders: [{ claim: sub, header: x-user }, { claim: groups, header: x-groups }]
        requiredClaims: [{ name: sub }]
---
apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: public-optional }
spec:
  targetRefs: [{ kind: HTTPRoute, name: api, sectionName: public }]
  jwt:
    optional: true
    providers:
      - name: idp
        issuer: ${ISS}
        remoteJWKS: { uri: "${jwksUri}" }
        extractFrom: { params: [access_token], cookies: [session] }
        allowMissingExpiration: true
`,
  };
}

beforeAll(async () => {
  upstream = await startUpstream("api");
  [rsa, ec, stranger] = await Promise.all([signingKey("rsa-1", "RS256"), signingKey("ec-1", "ES256"), signingKey("stranger", "RS256")]);
  jwks = await startJwksServer([rsa.jwk, ec.jwk, { kty: "RSA", kid: "broken", n: "!!", e: "AQAB" }]);
  gw = await startTestGateway(policies(jwks.url), { accessLog: "off", logger: (level, message, fields) => logs.push(JSON.stringify({ level, message, fields })) });
});

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  await jwks?.close();
});

const get = (path: string, headers: Record<string, string> = {}) => rawRequest(gw.url, path, { headers });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("JWT on a route", () => {
  it("prefetches the JWKS when the snapshot loads, before any request", async () => {
    for (let i = 0; i < 100 && jwks.fetches === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(upstream.received.length).toBe(0);
    expect(jwks.fetches).toBeGreaterThanOrEqual(1);
  });

  it("lets a valid RS256 token through, strips it, and sends the principal and claims upstream", async () => {
    const token = await sign(rsa, { iss: ISS, aud: "meshgate", sub: "alice", groups: ["dev", "ops"] });
    const res = await get("/api/orders", { ...bearer(token), "x-meshgate-principal": "spoofed", "x-user": "mallory" });
    expect(res.status).toBe(200);
    const seen = upstream.received.at(-1)!.headers;
    expect(seen.authorization).toBeUndefined();
    expect(seen["x-meshgate-principal"]).toBe(`${ISS}/alice`);
    expect(seen["x-user"]).toBe("alice");
    expect(seen["x-groups"]).toBe('["dev","ops"]');
  });

  it("accepts ES256 from the same key set; a malformed key in the set does not disable the others", async () => {
    const res = await get("/api/x", bearer(await sign(ec, { iss: ISS, aud: "meshgate", sub: "bob" })));
    expect(res.status).toBe(200);
    expect(upstream.received.at(-1)!.headers["x-meshgate-principal"]).toBe(`${ISS}/bob`);
  });

  it("refuses a valid token that lacks a claim required with any value (requiredClaims without values)", async () => {
    const res = await get("/api/orders", bearer(await sign(rsa, { iss: ISS, aud: "meshgate", sub: undefined })));
    expect([res.status, res.json().error.code]).toEqual([403, "jwt_claim_mismatch"]);
  });

  it("answers 401 with WWW-Authenticate when the token is missing", async () => {
    const res = await get("/api/orders", { "x-user": "mallory" });
    expect(res.status).toBe(401);
    expect(res.json().error.code).toBe("jwt_missing");
    expect(res.headers["www-authenticate"]).toBe('Bearer realm="meshgate"');
  });

  describe("attack table: every forged or invalid token fails closed with its own code", () => {
    const now = () => Math.floor(Date.now() / 1000);
    const cases: [string, () => Promise<string>, number, string][] = [
      ["no exp claim (exp is required by default)", async () => new SignJWT({ iss: ISS, aud: "meshgate", sub: "alice" }).setProtectedHeader({ alg: "RS256", kid: "rsa-1" }).sign(rsa.privateKey), 401, "jwt_exp_missing"],
      ["alg: none", async () => `${base64url.encode(JSON.stringify({ alg: "none", typ: "JWT" }))}.${base64url.encode(JSON.stringify({ iss: ISS, aud: "meshgate", sub: "root", exp: now() + 600 }))}.`, 401, "jwt_alg_not_allowed"],
      [
        "RS256 public key used as an HS256 secret",
        async () => {
          const pem = await exportSPKI((await import("node:crypto")).createPublicKey({ key: rsa.jwk as import("node:crypto").JsonWebKey, format: "jwk" }));
          return new SignJWT({ iss: ISS, aud: "meshgate", sub: "root", exp: now() + 600 }).setProtectedHeader({ alg: "HS256", kid: rsa.kid }).sign(new TextEncoder().encode(pem));
        },
        401,
        "jwt_alg_not_allowed",
      ],
      ["unknown kid", () => sign(stranger, { iss: ISS, aud: "meshgate" }), 401, "jwt_unknown_kid"],
      ["expired (beyond the 30 s skew)", () => sign(rsa, { iss: ISS, aud: "meshgate", exp: now() - 120 }), 401, "jwt_expired"],
      ["not yet valid", () => sign(rsa, { iss: ISS, aud: "meshgate", nbf: now() + 3600 }), 401, "jwt_not_yet_valid"],
      ["wrong issuer", () => sign(rsa, { iss: "https://evil.test", aud: "meshgate" }), 401, "jwt_bad_issuer"],
      ["wrong audience", () => sign(rsa, { iss: ISS, aud: "someone-else" }), 401, "jwt_bad_audience"],
      [
        "bad signature",
        async () => {
          const [h, p, s] = (await sign(rsa, { iss: ISS, aud: "meshgate" })).split(".");
          const mid = Math.floor(s!.length / 2);
          return `${h}.${p}.${s!.slice(0, mid)}${s![mid] === "A" ? "B" : "A"}${s!.slice(mid + 1)}`;
        },
        401,
        "jwt_bad_signature",
      ],
      [
        "payload swapped under a valid signature",
        async () => {
          const [h, , s] = (await sign(rsa, { iss: ISS, aud: "meshgate", sub: "alice" })).split(".");
          return `${h}.${base64url.encode(JSON.stringify({ iss: ISS, aud: "meshgate", sub: "admin", exp: now() + 600 }))}.${s}`;
        },
        401,
        "jwt_bad_signature",
      ],
      ["two segments", async () => "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0", 401, "jwt_malformed"],
      ["segments that are not JSON", async () => "bm90IGpzb24.bm90IGpzb24.c2ln", 401, "jwt_malformed"],
      ["characters outside base64url", async () => "a$b.c%d.e", 401, "jwt_malformed"],
      ["oversized token", () => sign(rsa, { iss: ISS, aud: "meshgate", pad: "x".repeat(9000) }), 401, "jwt_too_large"],
    ];
    for (const [name, make, status, code] of cases) {
      it(name, async () => {
        const token = await make();
        const before = upstream.received.length;
        const res = await get("/api/orders", bearer(token));
        expect(res.status).toBe(status);
        expect(res.json().error.code).toBe(code);
        expect(res.headers["www-authenticate"]).toBe(`Bearer realm="meshgate", error="invalid_token", error_description="${code}"`);
        expect(upstream.received.length).toBe(before);
        const signature = token.split(".")[2] ?? "";
        if (signature.length > 20) expect(res.body).not.toContain(signature);
      });
    }
  });

  it("refetches the JWKS for an unknown kid at most once per minRefetchInterval", async () => {
    const before = jwks.fetches;
    for (let i = 0; i < 20; i++) {
      const forged = await signingKey(`forged-${i}`);
      const res = await get("/api/x", bearer(await sign(forged, { iss: ISS, aud: "meshgate" })));
      expect(res.json().error.code).toBe("jwt_unknown_kid");
    }
    expect(jwks.fetches - before).toBeLessThanOrEqual(1);
  });

  it("keeps verifying with the last good key set while the JWKS host is down", async () => {
    jwks.down = true;
    try {
      // A new snapshot whose key set is always stale: every request asks for a refresh, which fails.
      await gw.write({ "security.yaml": policies(jwks.url)["security.yaml"]!.replace("minRefetchInterval: 1h", "minRefetchInterval: 1h, cacheDuration: 1ms") });
      const before = jwks.fetches;
      const res = await get("/api/x", bearer(await sign(rsa, { iss: ISS, aud: "meshgate", sub: "carol" })));
      expect(res.status).toBe(200);
      for (let i = 0; i < 100 && jwks.fetches === before; i++) await new Promise((r) => setTimeout(r, 20));
      expect(jwks.fetches).toBeGreaterThan(before);
      const again = await get("/api/x", bearer(await sign(ec, { iss: ISS, aud: "meshgate", sub: "carol" })));
      expect(again.status).toBe(200);
      const config = (await (await fetch(`${gw.adminUrl}/config`)).json()) as { jwks: { uri: string; keys: number; lastError: string | null }[] };
      expect(config.jwks).toContainEqual(expect.objectContaining({ uri: jwks.url, keys: 3, lastError: `JWKS ${jwks.url} answered 503` }));
    } finally {
      jwks.down = false;
    }
  });

  it("never writes token material to the logs", async () => {
    const token = await sign(rsa, { iss: ISS, aud: "meshgate", exp: Math.floor(Date.now() / 1000) - 999 });
    await get("/api/x", bearer(token));
    const signature = token.split(".")[2]!;
    expect(logs.join("\n")).not.toContain(signature);
  });
});

describe("optional JWT from a query parameter or cookie (rule-level policy beats the route-level one)", () => {
  it("passes without a token", async () => {
    const res = await get("/public/page");
    expect(res.status).toBe(200);
    expect(upstream.received.at(-1)!.headers["x-meshgate-principal"]).toBeUndefined();
  });

  it("reads the token from ?access_token= and removes it from the upstream query", async () => {
    const token = await sign(rsa, { iss: ISS, sub: "dave" });
    const res = await get(`/public/page?a=1&access_token=${token}`);
    expect(res.status).toBe(200);
    expect(upstream.received.at(-1)!.url).toBe("/public/page?a=1");
    expect(upstream.received.at(-1)!.headers["x-meshgate-principal"]).toBe(`${ISS}/dave`);
  });

  it("reads the token from a cookie and keeps the other cookies", async () => {
    const token = await sign(rsa, { iss: ISS, sub: "erin" });
    const res = await get("/public/page", { cookie: `theme=dark; session=${token}; lang=en` });
    expect(res.status).toBe(200);
    expect(upstream.received.at(-1)!.headers.cookie).toBe("theme=dark; lang=en");
  });

  it("accepts a token without exp where the provider sets allowMissingExpiration", async () => {
    const token = await new SignJWT({ iss: ISS, sub: "forever" }).setProtectedHeader({ alg: "RS256", kid: "rsa-1" }).sign(rsa.privateKey);
    const res = await get(`/public?access_token=${token}`);
    expect(res.status).toBe(200);
  });

  it("still refuses a bad token when one is given", async () => {
    const res = await get(`/public/page?access_token=${await sign(stranger, { iss: ISS })}`);
    expect(res.status).toBe(401);
    expect(res.json().error.code).toBe("jwt_unknown_kid");
  });
});

describe("OpenID discovery", () => {
  it("finds the key set from the issuer when remoteJWKS has no uri", async () => {
    const { startTestGateway: start } = await import("../support/gateway.js");
    const discoveryGw = await start({
      "backend.yaml": backendYaml("api", [upstream.url]),
      "route.yaml": `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: d }\nspec: { rules: [{ backendRefs: [{ name: api }] }] }\n`,
      "security.yaml": `apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: d }
spec:
  targetRefs: [{ kind: HTTPRoute, name: d }]
  jwt: { providers: [{ name: oidc, issuer: "${jwks.issuer}", remoteJWKS: {} }] }
`,
    });
    try {
      const token = await sign(rsa, { iss: jwks.issuer, sub: "oidc-user" });
      const res = await rawRequest(discoveryGw.url, "/x", { headers: bearer(token) });
      expect(res.status).toBe(200);
      expect(upstream.received.at(-1)!.headers["x-meshgate-principal"]).toBe(`${jwks.issuer}/oidc-user`);
    } finally {
      await discoveryGw.close();
    }
  });
});
