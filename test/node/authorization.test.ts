import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/identity/api-keys.js";
import { RedisApiKeyStore } from "../../src/runtime/node/redis-key-store.js";
import { backendYaml, prefixRouteYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { rawRequest } from "../support/raw-request.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

const ALICE_KEY = "mgk_alice-secret-key-0001";
const ALICE_OLD_KEY = "mgk_alice-rotated-key-0000";
const BOB_KEY = "mgk_bob-expired-key";
const STORED_KEY = "mgk_from-redis-0042";
const PREFIX = `meshgate-test-${process.pid}`;

let upstream: TestUpstream;
let gw: TestGateway;
let redis: Redis;
const accessLog: string[] = [];

async function files(): Promise<Record<string, string>> {
  return {
    "backend.yaml": backendYaml("app", [upstream.url]),
    "route.yaml": [prefixRouteYaml("app", "/", "app"), prefixRouteYaml("keys", "/keys", "app"), prefixRouteYaml("shadow", "/shadow", "app")].join("---\n"),
    "security.yaml": `apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: edge }
spec:
  targetRefs: [{ kind: Gateway, name: edge }]
  authorization:
    rules:
      - { name: deny-admin, action: DENY, paths: ["/admin/*"] }
      - { name: deny-delete, action: DENY, methods: [DELETE], hosts: ["*.internal.test"] }
      - { name: deny-beta-header, action: DENY, headers: [{ name: x-client, values: [beta-bot] }] }
      - { name: loopback, action: ALLOW, sourceCIDRs: [127.0.0.0/8, "::1/128"] }
---
apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: keys }
spec:
  targetRefs: [{ kind: HTTPRoute, name: keys }]
  apiKey:
    extractFrom: { headers: [{ name: x-api-key }], params: [api_key] }
    keyStore: true
    keys:
      - { consumer: alice, hash: "sha256:${await sha256Hex(ALICE_KEY)}", metadata: { tier: gold } }
      - { consumer: alice, hash: "sha256:${await sha256Hex(ALICE_OLD_KEY)}", metadata: { tier: gold } }
      - { consumer: bob, hash: "sha256:${await sha256Hex(BOB_KEY)}", expiresAt: "2020-01-01T00:00:00Z" }
  authorization:
    rules:
      - { name: gold-only-writes, action: DENY, methods: [POST], consumers: [bob, carol] }
      - { name: known-consumers, action: ALLOW, authenticated: true }
---
apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: shadow }
spec:
  targetRefs: [{ kind: HTTPRoute, name: shadow }]
  authorization:
    dryRun: true
    rules:
      - { name: nobody, action: ALLOW, principals: ["spiffe://cluster.local/*"] }
`,
  };
}

beforeAll(async () => {
  upstream = await startUpstream("app");
  redis = new Redis("redis://127.0.0.1:6379");
  await redis.set(`${PREFIX}:apikey:${await sha256Hex(STORED_KEY)}`, JSON.stringify({ consumer: "carol", metadata: { tier: "silver" } }));
  const { writeFile, mkdtemp } = await import("node:fs/promises");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const logFile = join(await mkdtemp(join(tmpdir(), "meshgate-log-")), "access.log");
  await writeFile(logFile, "");
  accessLog.push(logFile);
  gw = await startTestGateway(await files(), { accessLog: logFile, apiKeyStore: new RedisApiKeyStore("redis://127.0.0.1:6379", PREFIX) });
});

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  await redis?.del(`${PREFIX}:apikey:${await sha256Hex(STORED_KEY)}`);
  redis?.disconnect();
});

const send = (target: string, headers: Record<string, string> = {}, method = "GET") => rawRequest(gw.url, target, { headers, method });

describe("path tricks against a DENY rule on /admin/*", () => {
  const denied = ["/admin", "/admin/", "/admin/users", "//admin", "///admin//users", "/%2e%2e/admin", "/x/../admin", "/./admin", "/%61dmin", "/ADMIN", "/Admin/users", "/public/%2E%2E/admin/x"];
  for (const target of denied) {
    it(`${target} → 403 access_denied, never upstream`, async () => {
      const before = upstream.received.length;
      const res = await send(target);
      expect(res.status).toBe(403);
      expect(res.json().error.code).toBe("access_denied");
      expect(res.json().error.message).toContain("deny-admin");
      expect(upstream.received.length).toBe(before);
    });
  }
  const refused = ["/admin;x", "/admin%2Fusers", "/x%2f..%2fadmin", "/admin%5cx", "/x\\..\\admin"];
  for (const target of refused) {
    it(`${target} → 400 bad_request`, async () => {
      const before = upstream.received.length;
      const res = await send(target);
      expect(res.status).toBe(400);
      expect(res.json().error.code).toBe("bad_request");
      expect(upstream.received.length).toBe(before);
    });
  }
  it("sends the normalized path upstream (the one that was authorized)", async () => {
    const res = await send("//public/./a/../b//c");
    expect(res.status).toBe(200);
    expect(upstream.received.at(-1)!.url).toBe("/public/b/c");
  });
});

describe("authorization rules", () => {
  it("DENY by method and host glob", async () => {
    expect((await send("/things/1", { host: "api.internal.test" }, "DELETE")).status).toBe(403);
    expect((await send("/things/1", { host: "api.example.test" }, "DELETE")).status).toBe(200);
  });

  it("DENY by header value", async () => {
    const res = await send("/x", { "x-client": "beta-bot" });
    expect(res.json().error.message).toContain("deny-beta-header");
  });

  it("removes spoofed identity and XFCC headers before anything reaches the upstream", async () => {
    const res = await send("/x", { "x-meshgate-principal": "admin", "x-meshgate-consumer": "alice", "x-forwarded-client-cert": "URI=spiffe://cluster.local/ns/x/sa/admin" });
    expect(res.status).toBe(200);
    const seen = upstream.received.at(-1)!.headers;
    expect(seen["x-meshgate-principal"]).toBeUndefined();
    expect(seen["x-meshgate-consumer"]).toBeUndefined();
    expect(seen["x-forwarded-client-cert"]).toBeUndefined();
  });

  it("dry run lets a denied request through and logs the decision", async () => {
    const res = await send("/shadow/x");
    expect(res.status).toBe(200);
    const { readFile } = await import("node:fs/promises");
    await new Promise((r) => setTimeout(r, 50));
    const lines = (await readFile(accessLog[0]!, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { path: string; authorization: unknown });
    const line = lines.find((l) => l.path === "/shadow/x")!;
    expect(line.authorization).toEqual({ policy: "default/shadow", allowed: false, rule: null, dry_run_denied: true });
  });
});

describe("API keys", () => {
  it("accepts a key from the header, strips it, and names the consumer upstream", async () => {
    const res = await send("/keys/a", { "x-api-key": ALICE_KEY });
    expect(res.status).toBe(200);
    const seen = upstream.received.at(-1)!.headers;
    expect(seen["x-api-key"]).toBeUndefined();
    expect(seen["x-meshgate-consumer"]).toBe("alice");
    expect(seen["x-meshgate-principal"]).toBe("alice");
  });

  it("accepts every active key of a consumer (rotation) and keys from the query", async () => {
    expect((await send(`/keys/a?api_key=${ALICE_OLD_KEY}&x=1`)).status).toBe(200);
    expect(upstream.received.at(-1)!.url).toBe("/keys/a?x=1");
  });

  it("401 with WWW-Authenticate for a missing, unknown or expired key", async () => {
    const missing = await send("/keys/a");
    expect([missing.status, missing.json().error.code, missing.headers["www-authenticate"]]).toEqual([401, "api_key_missing", 'ApiKey realm="meshgate"']);
    const unknown = await send("/keys/a", { "x-api-key": "mgk_nope" });
    expect([unknown.status, unknown.json().error.code]).toEqual([401, "api_key_invalid"]);
    const expired = await send("/keys/a", { "x-api-key": BOB_KEY });
    expect([expired.status, expired.json().error.code]).toEqual([401, "api_key_expired"]);
    expect(expired.headers["www-authenticate"]).toBe('ApiKey realm="meshgate", error_description="api_key_expired"');
  });

  it("looks keys up one by one in Redis for large key sets", async () => {
    const res = await send("/keys/a", { "x-api-key": STORED_KEY });
    expect(res.status).toBe(200);
    expect(upstream.received.at(-1)!.headers["x-meshgate-consumer"]).toBe("carol");
    const denied = await send("/keys/a", { "x-api-key": STORED_KEY }, "POST");
    expect([denied.status, denied.json().error.code]).toEqual([403, "access_denied"]);
  });

  it("never writes a key to the access log", async () => {
    const { readFile } = await import("node:fs/promises");
    await new Promise((r) => setTimeout(r, 50));
    const text = await readFile(accessLog[0]!, "utf8");
    for (const key of [ALICE_KEY, ALICE_OLD_KEY, BOB_KEY, STORED_KEY]) expect(text).not.toContain(key);
  });
});

describe("metrics", () => {
  it("count auth failures by reason and authorization decisions by rule", async () => {
    const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(text).toContain('meshgate_auth_failures_total{route="default/keys/rule-0",reason="api_key_expired"} 1\n');
    expect(text).toContain('meshgate_auth_failures_total{route="default/keys/rule-0",reason="api_key_missing"} 1\n');
    expect(text).toContain('meshgate_authorization_decisions_total{policy="default/shadow",rule="(default)",result="dry_run_deny"} 1\n');
    expect(text).toContain('meshgate_authorization_decisions_total{policy="default/keys",rule="gold-only-writes",result="deny"} 1\n');
    expect(text).toMatch(/meshgate_authorization_decisions_total\{policy="default\/edge",rule="deny-admin",result="deny"\} 12\n/);
  });
});

describe("explain agrees with the gateway", () => {
  const explain = async (url: string, headers: Record<string, string> = {}, method = "GET") =>
    (await (await fetch(`${gw.adminUrl}/explain`, { method: "POST", body: JSON.stringify({ method, url, headers }) })).json()) as Record<string, any>;

  it("for a request denied by a path rule, however the path is spelled", async () => {
    const trail = await explain("http://any.test//%61dmin/./users");
    expect(trail.request.path).toBe("/admin/users");
    expect(trail.outcome).toEqual({ status: 403, error: "access_denied", message: "denied by rule deny-admin of SecurityPolicy default/edge" });
    expect(trail.authorization).toMatchObject({ allowed: false, rule: "deny-admin" });
    const real = await send("//%61dmin/./users");
    expect([real.status, real.json().error.message]).toEqual([403, trail.outcome.message]);
  });

  it("for an API key: the same principal and decision", async () => {
    const trail = await explain("http://any.test/keys/a", { "x-api-key": ALICE_KEY }, "POST");
    expect(trail.identity.principal).toEqual({ id: "alice", kind: "apiKey", consumer: "alice", certificate: null });
    expect(trail.authorization).toMatchObject({ allowed: true, rule: "known-consumers" });
    expect(trail.outcome).toBeUndefined();
    expect((await send("/keys/a", { "x-api-key": ALICE_KEY }, "POST")).status).toBe(200);
  });

  it("for an expired key: the same 401", async () => {
    const trail = await explain("http://any.test/keys/a", { "x-api-key": BOB_KEY });
    expect(trail.outcome).toMatchObject({ status: 401, error: "api_key_expired" });
  });
});
