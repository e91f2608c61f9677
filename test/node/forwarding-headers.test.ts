import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { rawExchange } from "../support/raw-socket.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

let up: TestUpstream;
let untrusting: TestGateway; // loopback (the test client) is not a trusted proxy here
let trusting: TestGateway; // loopback is: the test client plays a proxy in front of real clients
let strict: TestGateway;
let dropAll: TestGateway;
let allow: TestGateway;
let continuing: TestGateway;

const files = {
  "b.yaml": backendYaml("web", [] as string[]),
  "r.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web }
spec:
  rules:
    - { name: limited, matches: [{ path: { type: PathPrefix, value: /limited } }], backendRefs: [{ name: web, port: 80 }] }
    - { name: open, backendRefs: [{ name: web, port: 80 }] }
---
apiVersion: meshgate.dev/v1alpha1
kind: RateLimitPolicy
metadata: { name: per-client }
spec:
  targetRefs: [{ kind: HTTPRoute, name: web, sectionName: limited }]
  rules: [{ name: per-address, key: clientAddress, limit: { requests: 1, period: 1m } }]
`,
};

beforeAll(async () => {
  up = await startUpstream("fwd");
  const f = { ...files, "b.yaml": backendYaml("web", [up.url]) };
  [untrusting, trusting, strict, dropAll, allow, continuing] = await Promise.all([
    startTestGateway(f, { trustedProxies: ["10.0.0.0/8"] }),
    startTestGateway(f, { trustedProxies: ["127.0.0.0/8", "10.0.0.0/8"] }),
    startTestGateway(f, { underscoreHeaders: "reject" }),
    startTestGateway(f, { underscoreHeaders: "drop" }),
    startTestGateway(f, { underscoreHeaders: "allow" }),
    startTestGateway(f, { trustedProxies: ["10.0.0.0/8"], untrustedTraceparent: "continue" }),
  ]);
});

afterAll(async () => {
  await Promise.all([untrusting, trusting, strict, dropAll, allow, continuing].map((g) => g?.close()));
  await up?.close();
});

/** Sends raw header lines (names byte for byte) and returns what the upstream saw. */
async function seen(gw: TestGateway, path: string, lines: string[]): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; raw: string[] }> {
  const before = up.received.length;
  const res = await rawExchange(gw.gateway.port, [`GET ${path} HTTP/1.1`, "Host: shop.test", ...lines, "Connection: close", "", ""].join("\r\n"));
  const got = up.received[before];
  return { status: res.status, headers: got?.headers ?? {}, raw: got?.rawHeaders ?? [] };
}

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const SPOOFED = ["X-Forwarded-Host: evil.test", "X-Forwarded-Port: 1", "X-Forwarded-Prefix: /x", "Forwarded: for=6.6.6.6;host=evil.test", "X-Real-IP: 6.6.6.6", "True-Client-IP: 6.6.6.6", "X-Original-URL: /admin", "X-Rewrite-URL: /admin", "X-Original-URI: /admin", "X-HTTP-Method-Override: DELETE", "X-HTTP-Method: DELETE", "X-Method-Override: DELETE"];

describe("forwarding headers from untrusted peers", () => {
  it("are removed; the gateway sets its own X-Forwarded-For/-Proto/-Host", async () => {
    const { status, headers } = await seen(untrusting, "/x", [...SPOOFED, "X-Forwarded-For: 6.6.6.6", "X-Forwarded-Proto: https", "X-Request-Id: mine"]);
    expect(status).toBe(200);
    for (const line of SPOOFED.slice(1)) expect(headers[line.slice(0, line.indexOf(":")).toLowerCase()], line).toBeUndefined();
    expect(headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(headers["x-forwarded-proto"]).toBe("http");
    expect(headers["x-forwarded-host"]).toBe("shop.test");
    expect(headers["x-request-id"]).not.toBe("mine");
  });

  it("are kept from trusted proxies", async () => {
    const { headers } = await seen(trusting, "/x", ["X-Forwarded-Host: public.test", "X-Original-URL: /from-proxy", "X-Forwarded-For: 203.0.113.9"]);
    expect(headers["x-forwarded-host"]).toBe("public.test");
    expect(headers["x-original-url"]).toBe("/from-proxy");
    expect(headers["x-forwarded-for"]).toBe("203.0.113.9, 127.0.0.1");
  });

  it("an untrusted traceparent starts a new trace (tracestate dropped); trusted ones and --untrusted-traceparent continue are continued", async () => {
    const sent = [`traceparent: 00-${TRACE}-b7ad6b7169203331-01`, "tracestate: vendor=x"];
    const restarted = await seen(untrusting, "/x", sent);
    expect(restarted.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(restarted.headers.traceparent).not.toContain(TRACE);
    expect(restarted.headers.tracestate).toBeUndefined();
    for (const gw of [trusting, continuing]) {
      const kept = await seen(gw, "/x", sent);
      expect(kept.headers.traceparent).toContain(`00-${TRACE}-`);
      expect(kept.headers.tracestate).toBe("vendor=x");
    }
  });
});

describe("underscore header names", () => {
  const lines = ["x_meshgate_principal: admin", "X_Meshgate_Consumer: acme", "x_forwarded_for: 6.6.6.6", "x_forwarded_host: evil.test", "x_request_id: r", "x_api_key: k", "x_custom_thing: kept"];
  it("by default lose those whose dashed form the gateway sets or trusts, and keep the rest", async () => {
    const { status, raw } = await seen(untrusting, "/x", lines);
    expect(status).toBe(200);
    const names = raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    expect(names.filter((n) => n.includes("_"))).toEqual(["x_custom_thing"]);
  });

  it("drop removes them all, allow keeps them all, reject answers 400", async () => {
    const dropped = await seen(dropAll, "/x", lines);
    expect(dropped.raw.filter((n, i) => i % 2 === 0 && n.includes("_"))).toEqual([]);
    const allowed = await seen(allow, "/x", lines);
    expect(allowed.raw.filter((n, i) => i % 2 === 0 && n.includes("_"))).toHaveLength(lines.length);
    const before = up.received.length;
    const res = await rawExchange(strict.gateway.port, "GET /x HTTP/1.1\r\nHost: a\r\nx_custom: 1\r\nConnection: close\r\n\r\n");
    expect(res.status).toBe(400);
    expect(res.json().error.code).toBe("bad_request");
    expect(up.received.length).toBe(before);
  });
});

describe("client address behind trusted proxies", () => {
  const hit = (gw: TestGateway, xff: string) => seen(gw, "/limited", [`X-Forwarded-For: ${xff}`]).then((r) => r.status);

  it("is the right-most X-Forwarded-For entry that is not a trusted proxy: eight clients, eight buckets", async () => {
    for (let i = 1; i <= 8; i++) expect(await hit(trusting, `198.51.100.${i}, 10.1.2.3`), `client ${i}`).toBe(200);
    // The same client again, whatever it put in front itself, is limited.
    expect(await hit(trusting, "1.1.1.1, 198.51.100.3, 10.1.2.3")).toBe(429);
    expect(await hit(trusting, "[198.51.100.4]:1234, 10.0.0.9")).toBe(429);
    expect(await hit(trusting, "198.51.100.5:55000")).toBe(429);
  });

  it("an untrusted peer's X-Forwarded-For is ignored", async () => {
    expect(await hit(untrusting, "192.0.2.1")).toBe(200);
    expect(await hit(untrusting, "192.0.2.2")).toBe(429);
  });

  it("IPv6 clients share a bucket per /64", async () => {
    expect(await hit(trusting, "2001:db8:aa:1::1")).toBe(200);
    expect(await hit(trusting, "2001:db8:aa:1:ffff:ffff:ffff:fffe")).toBe(429);
    expect(await hit(trusting, "[2001:db8:aa:1::77]:443")).toBe(429);
    expect(await hit(trusting, "2001:db8:aa:2::1")).toBe(200);
  });
});
