import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { rawExchange } from "../support/raw-socket.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

// deny.test has a policy refusing /admin; the catch-all route has none. Every Host spelling a
// URL parser would read as deny.test must answer 400, never reach the catch-all's upstream.
let guarded: TestUpstream, open: TestUpstream, pair: [TestUpstream, TestUpstream];
let gw: TestGateway;

beforeAll(async () => {
  [guarded, open] = await Promise.all([startUpstream("guarded"), startUpstream("open")]);
  pair = (await Promise.all([startUpstream("p1"), startUpstream("p2")])) as [TestUpstream, TestUpstream];
  gw = await startTestGateway({
    "backends.yaml": [
      backendYaml("guarded", [guarded.url]),
      backendYaml("open", [open.url]),
      `${backendYaml("pair", [pair[0].url, pair[1].url])}  outlierDetection: { consecutive5xx: 3, consecutiveGatewayErrors: 3, baseEjectionTime: 30s, maxEjectionPercent: 100 }\n`,
    ].join("---\n"),
    "routes.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: deny }
spec:
  hostnames: [deny.test]
  rules: [{ backendRefs: [{ name: guarded, port: 80 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: pair }
spec:
  hostnames: [pair.test]
  rules: [{ backendRefs: [{ name: pair, port: 80 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: catch-all }
spec:
  rules: [{ backendRefs: [{ name: open, port: 80 }] }]
---
apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: deny-admin }
spec:
  targetRefs: [{ kind: HTTPRoute, name: deny }]
  authorization:
    rules: [{ name: no-admin, action: DENY, paths: ["/admin", "/admin/*"] }]
`,
  });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([guarded, open, ...pair].map((u) => u?.close()));
});

const send = (head: string) => rawExchange(gw.gateway.port, `${head}\r\n\r\n`);
const get = (target: string, ...headers: string[]) => send([`GET ${target} HTTP/1.1`, ...headers].join("\r\n"));

describe("Host header validation", () => {
  const bad = ["x@deny.test", "deny.test#x", "deny.test/x", "deny.test?x", "deny.test\\x", "deny%2etest", "deny.test;x", "deny.test,x", "deny.test:80@evil", "deny.test x", "deny.test:", "deny.test:0", "deny.test:65536", "deny.test:8o", "deny..test", ".deny.test", "[::1", "[::1]x", "[fe80::1%25eth0]", "::1", "deny.test\tx", "dény.test"];
  it.each(bad)("Host %j answers 400 and reaches no upstream", async (host) => {
    const before = open.received.length + guarded.received.length;
    const res = await get("/admin", `Host: ${host}`);
    expect(res.status).toBe(400);
    expect(res.json().error.code).toBe("bad_request");
    expect(open.received.length + guarded.received.length).toBe(before);
  });

  it("two Host headers answer 400 (also when equal)", async () => {
    for (const second of ["open.test", "deny.test"]) {
      const res = await get("/x", "Host: deny.test", `Host: ${second}`);
      expect(res.status).toBe(400);
      expect(res.json().error.message).toMatch(/more than one Host/);
    }
  });

  it("a request without Host answers 400 as JSON, HTTP/1.0 included", async () => {
    for (const version of ["1.1", "1.0"]) {
      const res = await send(`GET /x HTTP/${version}`);
      expect(res.status).toBe(400);
      expect(res.json().error.code).toBe("bad_request");
    }
  });

  it("valid spellings route as the host they name", async () => {
    for (const host of ["DENY.test", "deny.test.", "deny.test:8080", "Deny.Test.:443"]) {
      const res = await get("/admin/x", `Host: ${host}`);
      expect(res.status, host).toBe(403);
      const ok = await get("/public", `Host: ${host}`);
      expect(ok.status, host).toBe(200);
      expect(JSON.parse(ok.body).upstream).toBe("guarded");
    }
    for (const host of ["[::1]", "[::1]:8080", "127.0.0.1:80", "my_svc.internal", "open.test"]) {
      const res = await get("/x", `Host: ${host}`);
      expect(res.status, host).toBe(200);
      expect(JSON.parse(res.body).upstream).toBe("open");
    }
  });
});

describe("fragments and absolute-form targets", () => {
  it.each(["/admin#x", "/admin/#", "/public?a=1#frag", "/#"])("origin-form %j answers 400", async (target) => {
    const res = await get(target, "Host: deny.test");
    expect(res.status).toBe(400);
    expect(res.json().error.message).toMatch(/fragment/);
  });

  it("absolute-form with a fragment answers 400", async () => {
    const res = await get("http://deny.test/admin#x", "Host: deny.test");
    expect(res.status).toBe(400);
  });

  it("absolute-form: the target's authority routes, a disagreeing Host or userinfo is 400", async () => {
    expect((await get("http://deny.test/admin", "Host: deny.test")).status).toBe(403);
    expect((await get("http://deny.test/admin")).status).toBe(403);
    expect((await get("http://deny.test:80/admin", "Host: deny.test")).status).toBe(403);
    expect((await get("HTTP://DENY.TEST?q=1", "Host: deny.test")).status).toBe(200);
    const forwarded = await get("http://deny.test/public?q=1", "Host: deny.test");
    expect(JSON.parse(forwarded.body)).toMatchObject({ upstream: "guarded", url: "/public?q=1", headers: { host: "deny.test" } });
    for (const [target, host] of [["http://deny.test/admin", "open.test"], ["http://open.test/x", "deny.test"], ["http://deny.test:8080/x", "deny.test"], ["http://x@deny.test/admin", "deny.test"], ["http://x@deny.test/admin", null], ["http://deny.test#/x", null], ["https://deny.test%2e/x", null]] as const) {
      const res = await (host === null ? get(target) : get(target, `Host: ${host}`));
      expect(res.status, `${target} ${host}`).toBe(400);
    }
  });
});

describe("errors the gateway causes never count against upstreams", () => {
  it("twelve duplicate-Host requests eject nobody", async () => {
    for (let i = 0; i < 12; i++) expect((await get("/x", "Host: pair.test", "Host: pair.test")).status).toBe(400);
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const res = await get("/x", "Host: pair.test");
      expect(res.status).toBe(200);
      seen.add(JSON.parse(res.body).upstream);
    }
    expect(seen).toEqual(new Set(["p1", "p2"]));
    expect(gw.gateway.metrics.registry.render()).not.toMatch(/meshgate_ejections_total [1-9]/);
  });
});
