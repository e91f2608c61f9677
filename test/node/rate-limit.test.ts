import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/identity/api-keys.js";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

let upstream: TestUpstream;
let gw: TestGateway;
const logs: string[] = [];

const route = (name: string) => `    - { name: ${name}, matches: [{ path: { type: PathPrefix, value: /${name} } }], backendRefs: [{ name: app }] }`;
const policy = (name: string, spec: string) => `apiVersion: meshgate.dev/v1alpha1
kind: RateLimitPolicy
metadata: { name: ${name} }
spec:
  targetRefs: [{ kind: HTTPRoute, name: app, sectionName: ${name} }]
${spec}`;

beforeAll(async () => {
  upstream = await startUpstream("app");
  gw = await startTestGateway({
    "backend.yaml": backendYaml("app", [upstream.url]),
    "route.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: app }
spec:
  rules:
${["local", "shadow", "tiers", "tenant", "closed", "open"].map(route).join("\n")}
`,
    "security.yaml": `apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: tier-keys }
spec:
  targetRefs: [{ kind: HTTPRoute, name: app, sectionName: tiers }]
  apiKey:
    keys:
      - { consumer: gold-co, hash: "sha256:${await sha256Hex("gold-key")}", metadata: { tier: gold } }
      - { consumer: free-co, hash: "sha256:${await sha256Hex("free-key")}", metadata: { tier: free } }
      - { consumer: free-co-2, hash: "sha256:${await sha256Hex("free-key-2")}", metadata: { tier: free } }
`,
    "limits.yaml": [
      policy("local", `  rules: [{ name: per-client, key: clientAddress, limit: { requests: 5, period: 10s } }]\n`),
      policy("shadow", `  shadow: true\n  rules: [{ name: everyone, key: shared, limit: { requests: 1, period: 10s } }]\n`),
      policy(
        "tiers",
        `  rules:
    - { name: gold, match: { consumerMetadata: { tier: gold } }, key: consumer, limit: { requests: 4, period: 10s } }
    - { name: free, key: consumer, limit: { requests: 2, period: 10s } }
`,
      ),
      policy("tenant", `  rules: [{ name: per-tenant, key: header, keyHeader: x-tenant, limit: { requests: 1, period: 10s }, match: { methods: [GET] } }]\n`),
      policy("closed", `  store: global\n  failureMode: closed\n  rules: [{ name: all, key: shared, limit: { requests: 100, period: 1s } }]\n`),
      policy("open", `  store: global\n  rules: [{ name: all, key: shared, limit: { requests: 100, period: 1s } }]\n`),
    ].join("---\n"),
  }, { logger: (level, message, fields) => logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`) });
});

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${gw.url}${path}`, { headers });
const statuses = async (n: number, path: string, headers: Record<string, string> = {}) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await get(path, headers)).status);
  return out;
};

describe("local rate limits", () => {
  it("allow the burst with RateLimit headers counting down, then 429 with Retry-After", async () => {
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await get("/local");
      expect(res.status).toBe(200);
      expect(res.headers.get("ratelimit-policy")).toBe('"per-client";q=5;w=10');
      seen.push(res.headers.get("ratelimit")!.split(";")[1]!);
    }
    expect(seen).toEqual(["r=4", "r=3", "r=2", "r=1", "r=0"]);
    const limited = await get("/local");
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
    expect(limited.headers.get("retry-after")).toBe("2");
    expect(limited.headers.get("ratelimit")).toBe('"per-client";r=0;t=10');
  });

  it("shadow mode never blocks but counts what it would have limited", async () => {
    expect(await statuses(4, "/shadow")).toEqual([200, 200, 200, 200]);
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(metrics).toContain('meshgate_ratelimit_decisions_total{policy="default/shadow",rule="everyone",result="shadow_limited"} 3\n');
    expect(metrics).toContain('meshgate_ratelimit_decisions_total{policy="default/shadow",rule="everyone",result="allowed"} 1\n');
  });

  it("gives API-key consumer tiers their own limits and their own buckets", async () => {
    expect(await statuses(5, "/tiers", { "x-api-key": "gold-key" })).toEqual([200, 200, 200, 200, 429]);
    expect(await statuses(3, "/tiers", { "x-api-key": "free-key" })).toEqual([200, 200, 429]);
    expect(await statuses(3, "/tiers", { "x-api-key": "free-key-2" })).toEqual([200, 200, 429]);
  });

  it("keys by a header value; requests without it, or not matching, are not limited", async () => {
    expect(await statuses(2, "/tenant", { "x-tenant": "a" })).toEqual([200, 429]);
    expect(await statuses(1, "/tenant", { "x-tenant": "b" })).toEqual([200]);
    expect(await statuses(3, "/tenant")).toEqual([200, 200, 200]);
    const post = await fetch(`${gw.url}/tenant`, { method: "POST", headers: { "x-tenant": "a" } });
    expect(post.status).toBe(200);
  });
});

describe("a global store the deployment does not have", () => {
  it("is named in a warning when the configuration loads", () => {
    expect(logs).toContain('warn RateLimitPolicy uses store: global, but this gateway has no such store (serve --ratelimit-store redis://...); every decision will fail closed {"policy":"default/closed"}');
  });

  it("fails closed with 503 when the policy says so", async () => {
    const res = await get("/closed");
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("rate_limit_unavailable");
  });

  it("fails open otherwise, and counts the error", async () => {
    expect((await get("/open")).status).toBe(200);
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(metrics).toContain('meshgate_ratelimit_decisions_total{policy="default/open",rule="all",result="store_error_open"} 1\n');
  });
});

describe("explain", () => {
  it("names the rule and bucket a request counts against, and takes nothing from it", async () => {
    const explain = async (url: string, headers: Record<string, string>) =>
      (await (await fetch(`${gw.adminUrl}/explain`, { method: "POST", body: JSON.stringify({ method: "GET", url, headers }) })).json()) as Record<string, any>;
    const gold = await explain("http://x.test/tiers/a", { "x-api-key": "gold-key" });
    expect(gold.rateLimit).toEqual({
      policy: "default/tiers",
      store: "local",
      failureMode: "open",
      shadow: false,
      rule: "gold",
      keyKind: "consumer",
      bucket: "default/tiers/gold/c:gold-co",
      limit: { requests: 4, periodMs: 10_000, burst: 4, cost: 1 },
      skipped: [],
    });
    const free = await explain("http://x.test/tiers/a", { "x-api-key": "free-key" });
    expect(free.rateLimit).toMatchObject({ rule: "free", skipped: ["gold: match does not fit"] });
    const tenantless = await explain("http://x.test/tenant", {});
    expect(tenantless.rateLimit).toMatchObject({ rule: null, skipped: ["per-tenant: request has no header:x-tenant to key on"] });
    // The explain calls above took nothing: a fresh tenant still gets its one request.
    expect((await get("/tenant", { "x-tenant": "explained" })).status).toBe(200);
  });
});

describe("dashboard", () => {
  it("shows the rate-limit rejections of the traffic above and each rule's policies", async () => {
    const html = await (await fetch(`${gw.adminUrl}/dashboard`)).text();
    // 429s above: 1 per-client, 1 gold, 2 free, 1 tenant.
    expect(html).toContain('id="rate-limited">5<');
    expect(html).toContain("rate limit default/tiers");
    expect(html).toContain("security default/tier-keys");
  });
});

describe("explain with a client address", () => {
  it("keys a per-address bucket on the address given", async () => {
    const trail = (await (await fetch(`${gw.adminUrl}/explain?url=${encodeURIComponent("http://x.test/local")}&from=10.1.2.3`)).json()) as { rateLimit: { bucket: string } };
    expect(trail.rateLimit.bucket).toBe("default/local/per-client/a:10.1.2.3");
  });
});
