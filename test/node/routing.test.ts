import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

let a: TestUpstream, b: TestUpstream, c: TestUpstream, d: TestUpstream;
let gw: TestGateway;

const route = (name: string, spec: string, extra = "") => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}${extra} }
spec:
${spec}
---
`;

beforeAll(async () => {
  [a, b, c, d] = await Promise.all(["a", "b", "c", "d"].map(startUpstream)) as [TestUpstream, TestUpstream, TestUpstream, TestUpstream];
  gw = await startTestGateway({
    "backends.yaml": [backendYaml("svc-a", [a.url]), backendYaml("svc-b", [b.url]), backendYaml("svc-c", [c.url]), backendYaml("svc-d", [d.url], "other")].join("---\n"),
    "routes.yaml":
      route("prefix", `  rules:
    - matches: [{ path: { type: PathPrefix, value: /api } }]
      backendRefs: [{ name: svc-a, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /api/v2/ } }]
      backendRefs: [{ name: svc-b, port: 80 }]
    - matches: [{ path: { type: Exact, value: /api/exact } }]
      backendRefs: [{ name: svc-c, port: 80 }]
    - matches: [{ path: { type: RegularExpression, value: "/re/[0-9]+" } }]
      backendRefs: [{ name: svc-c, port: 80 }]`) +
      route("methods-headers", `  rules:
    - matches: [{ path: { value: /m }, method: POST }]
      backendRefs: [{ name: svc-b, port: 80 }]
    - matches: [{ path: { value: /m } }]
      backendRefs: [{ name: svc-a, port: 80 }]
    - matches: [{ path: { value: /h }, headers: [{ name: X-Version, value: "2" }, { name: x-tier, type: RegularExpression, value: "gold|silver" }] }]
      backendRefs: [{ name: svc-c, port: 80 }]
    - matches: [{ path: { value: /h }, headers: [{ name: x-version, value: "2" }] }]
      backendRefs: [{ name: svc-b, port: 80 }]
    - matches: [{ path: { value: /h } }]
      backendRefs: [{ name: svc-a, port: 80 }]
    - matches: [{ path: { value: /q }, queryParams: [{ name: v, value: "2" }] }]
      backendRefs: [{ name: svc-b, port: 80 }]
    - matches: [{ path: { value: /q } }]
      backendRefs: [{ name: svc-a, port: 80 }]`) +
      route("hosts-exact", `  hostnames: [foo.example.com]
  rules:
    - matches: [{ path: { value: /host } }]
      backendRefs: [{ name: svc-a, port: 80 }]`) +
      route("hosts-wild", `  hostnames: ["*.example.com"]
  rules:
    - matches: [{ path: { value: /host } }]
      backendRefs: [{ name: svc-b, port: 80 }]
    - matches: [{ path: { value: /wildonly } }]
      backendRefs: [{ name: svc-b, port: 80 }]`) +
      route("hosts-wild-deeper", `  hostnames: ["*.bar.example.com"]
  rules:
    - matches: [{ path: { value: /host } }]
      backendRefs: [{ name: svc-c, port: 80 }]`) +
      route("cross-ns", `  rules:
    - matches: [{ path: { value: /other-ns } }]
      backendRefs: [{ name: svc-d, namespace: other, port: 80 }]
    - matches: [{ path: { value: /missing } }]
      backendRefs: [{ name: does-not-exist, port: 80 }]
    - matches: [{ path: { value: /zero } }]
      backendRefs: [{ name: svc-a, port: 80, weight: 0 }]`),
  });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([a, b, c, d].map((u) => u?.close()));
});

async function who(path: string, init: RequestInit = {}): Promise<string> {
  const res = await fetch(gw.url + path, init);
  expect(res.status, `${path} status`).toBe(200);
  return res.headers.get("x-upstream") ?? "";
}

// fetch() forbids setting Host, so host-based cases go through node:http.
function get(path: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(gw.url + path, { headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("Gateway API precedence", () => {
  it("prefers exact over prefix, and the longest prefix, matching whole path elements", async () => {
    expect(await who("/api/exact")).toBe("c");
    expect(await who("/api/v2/things")).toBe("b");
    expect(await who("/api/v2")).toBe("b");
    expect(await who("/api/v2x")).toBe("a");
    expect(await who("/api")).toBe("a");
    expect((await fetch(gw.url + "/apix")).status).toBe(404);
  });

  it("anchors regular expressions to the whole path", async () => {
    expect(await who("/re/123")).toBe("c");
    expect((await fetch(gw.url + "/re/123/x")).status).toBe(404);
  });

  it("prefers a method match, then more header matches, then query matches", async () => {
    expect(await who("/m", { method: "POST", body: "x" })).toBe("b");
    expect(await who("/m")).toBe("a");
    expect(await who("/h", { headers: { "x-version": "2", "x-tier": "gold" } })).toBe("c");
    expect(await who("/h", { headers: { "x-version": "2", "x-tier": "bronze" } })).toBe("b");
    expect(await who("/h", { headers: { "x-version": "3" } })).toBe("a");
    expect(await who("/q?v=2")).toBe("b");
    expect(await who("/q?v=1&v=2")).toBe("a");
    expect(await who("/q")).toBe("a");
  });

  it("prefers exact hostnames, then the most specific wildcard, then routes without hostnames", async () => {
    expect((await get("/host", { host: "foo.example.com" })).headers["x-upstream"]).toBe("a");
    expect((await get("/host", { host: "FOO.example.com:8080" })).headers["x-upstream"]).toBe("a");
    expect((await get("/host", { host: "x.example.com" })).headers["x-upstream"]).toBe("b");
    expect((await get("/host", { host: "x.bar.example.com" })).headers["x-upstream"]).toBe("c");
    expect((await get("/wildonly", { host: "x.bar.example.com" })).headers["x-upstream"]).toBe("b");
    expect((await get("/wildonly", { host: "foo.example.com" })).headers["x-upstream"]).toBe("b");
    // a wildcard never covers its own apex
    expect((await get("/host", { host: "example.com" })).status).toBe(404);
    // routes without hostnames still serve every host
    expect((await get("/api", { host: "foo.example.com" })).headers["x-upstream"]).toBe("a");
  });
});

describe("backend resolution", () => {
  it("resolves a ref in another namespace", async () => {
    expect(await who("/other-ns")).toBe("d");
  });

  it("answers 500 with the JSON error contract for an unresolvable ref and all-zero weights", async () => {
    for (const [path, code] of [["/missing", "backend_not_found"], ["/zero", "no_backend"]] as const) {
      const res = await fetch(gw.url + path);
      expect(res.status).toBe(500);
      expect(res.headers.get("content-type")).toBe("application/json");
      expect(await res.json()).toEqual({ error: { code, message: expect.any(String) } });
    }
  });

  it("answers 404 no_route when nothing matches", async () => {
    const res = await fetch(gw.url + "/nothing-here");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "no_route", message: expect.stringContaining("/nothing-here") } });
  });

  it("reports unresolvable refs as warnings in /config", async () => {
    const config = (await (await fetch(gw.adminUrl + "/config")).json()) as { warnings: string[] };
    expect(config.warnings.some((w) => w.includes("routes.yaml:document#") && w.includes("does-not-exist"))).toBe(true);
  });
});

describe("weighted split", () => {
  it("splits traffic across backendRefs by weight through the real gateway", async () => {
    await gw.write({
      "split.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: split }
spec:
  rules:
    - matches: [{ path: { value: /split } }]
      backendRefs: [{ name: svc-a, weight: 75 }, { name: svc-b, weight: 25 }, { name: svc-c, weight: 0 }]
`,
    });
    const counts: Record<string, number> = {};
    const n = 800;
    for (let i = 0; i < n; i++) {
      const u = await who("/split");
      counts[u] = (counts[u] ?? 0) + 1;
    }
    // Binomial(800, 0.25): mean 200, sd 12.2; bounds are 5 sd wide.
    expect(counts.b).toBeGreaterThan(139);
    expect(counts.b).toBeLessThan(261);
    expect(counts.c).toBeUndefined();
    expect((counts.a ?? 0) + (counts.b ?? 0)).toBe(n);
  });
});
