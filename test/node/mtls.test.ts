import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { createCa, type Issued, type TestCa } from "../support/pki.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";
import { until } from "../support/cli-gateway.js";

const DAY = 86_400_000;
let ca: TestCa, otherCa: TestCa;
let server: Issued, client: Issued, spiffe: Issued, expired: Issued, foreign: Issued;
let upstream: TestUpstream;
let permissive: TestGateway, strict: TestGateway;

const FILES = (url: string) => ({
  "backend.yaml": backendYaml("app", [url]),
  "route.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: app }
spec:
  rules:
    - { name: open, matches: [{ path: { type: PathPrefix, value: /open } }], backendRefs: [{ name: app, port: 80 }] }
    - { name: cert, matches: [{ path: { type: PathPrefix, value: /cert } }], backendRefs: [{ name: app, port: 80 }] }
    - { name: shop, matches: [{ path: { type: PathPrefix, value: /shop } }], backendRefs: [{ name: app, port: 80 }] }
    - { name: xfcc, matches: [{ path: { type: PathPrefix, value: /xfcc } }], backendRefs: [{ name: app, port: 80 }] }
`,
  "security.yaml": `apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: cert }
spec:
  targetRefs: [{ kind: HTTPRoute, name: app, sectionName: cert }]
  clientCertificate: { required: true }
---
apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: shop }
spec:
  targetRefs: [{ kind: HTTPRoute, name: app, sectionName: shop }]
  clientCertificate: { required: true }
  authorization:
    rules: [{ name: shop-workloads, action: ALLOW, principals: ["spiffe://cluster.local/ns/shop/*"] }]
---
apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: xfcc }
spec:
  targetRefs: [{ kind: HTTPRoute, name: app, sectionName: xfcc }]
  clientCertificate: { required: true, forwardedCertificateFrom: [127.0.0.2/32] }
`,
});

beforeAll(async () => {
  [ca, otherCa] = await Promise.all([createCa("meshgate test CA"), createCa("someone else's CA")]);
  [server, client, spiffe, expired, foreign] = await Promise.all([
    ca.issue({ subject: "CN=gateway", ips: ["127.0.0.1"], dns: ["localhost"], server: true }),
    ca.issue({ subject: "O=acme,CN=client-a" }), // written in DER order; RFC 2253 prints it CN first
    ca.issue({ subject: "CN=cart", uris: ["spiffe://cluster.local/ns/shop/sa/cart"] }),
    ca.issue({ subject: "CN=old-client", notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) }),
    otherCa.issue({ subject: "O=acme,CN=client-a", uris: ["spiffe://cluster.local/ns/shop/sa/cart"] }),
  ]);
  upstream = await startUpstream("app");
  permissive = await startTestGateway(FILES(upstream.url), { tls: { cert: server.cert, key: server.key, clientCa: ca.cert, clientAuth: "permissive" } });
  strict = await startTestGateway(FILES(upstream.url), { tls: { cert: server.cert, key: server.key, clientCa: ca.cert, clientAuth: "strict" } });
});

afterAll(async () => {
  await permissive?.close();
  await strict?.close();
  await upstream?.close();
});

interface Answer {
  status: number;
  code: string | null;
  headers: Record<string, string | string[] | undefined>;
}

function get(gw: TestGateway, path: string, options: { cert?: Issued; headers?: Record<string, string | string[]>; localAddress?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: gw.gateway.port, path, ca: ca.cert, servername: "localhost", agent: false, headers: options.headers ?? {}, ...(options.localAddress ? { localAddress: options.localAddress } : {}), ...(options.cert ? { cert: options.cert.cert, key: options.cert.key } : {}) },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, code: res.statusCode && res.statusCode >= 400 ? (JSON.parse(body) as { error: { code: string } }).error.code : null, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("PERMISSIVE: certificates are optional at the handshake, required by policy", () => {
  it("serves routes without a policy to clients without a certificate", async () => {
    expect((await get(permissive, "/open")).status).toBe(200);
    expect(upstream.received.at(-1)!.headers["x-forwarded-proto"]).toBe("https");
  });

  it("a route requiring a certificate answers 401 without one", async () => {
    const res = await get(permissive, "/cert");
    expect([res.status, res.code]).toEqual([401, "client_certificate_required"]);
    expect(res.headers["www-authenticate"]).toBe('ClientCertificate realm="meshgate"');
  });

  it("a valid certificate's subject becomes the principal", async () => {
    const res = await get(permissive, "/cert", { cert: client });
    expect(res.status).toBe(200);
    expect(upstream.received.at(-1)!.headers["x-meshgate-client-cert-id"]).toBe("CN=client-a,O=acme");
    expect(upstream.received.at(-1)!.headers["x-meshgate-principal"]).toBe("CN=client-a,O=acme");
  });

  it("an expired certificate is refused with the reason", async () => {
    const res = await get(permissive, "/cert", { cert: expired });
    expect([res.status, res.code]).toEqual([401, "client_certificate_invalid"]);
  });

  it("a certificate from another CA is refused, even with the right SPIFFE ID", async () => {
    const res = await get(permissive, "/shop", { cert: foreign });
    expect([res.status, res.code]).toEqual([401, "client_certificate_invalid"]);
  });

  it("the SPIFFE URI SAN is the principal, and authorization keys on it", async () => {
    const res = await get(permissive, "/shop", { cert: spiffe });
    expect(res.status).toBe(200);
    expect(upstream.received.at(-1)!.headers["x-meshgate-principal"]).toBe("spiffe://cluster.local/ns/shop/sa/cart");
    const other = await get(permissive, "/shop", { cert: client });
    expect([other.status, other.code]).toEqual([403, "access_denied"]);
  });
});

describe("forwarded client certificates (XFCC)", () => {
  const xfcc = 'By=spiffe://cluster.local/ns/edge/sa/lb;Hash=abc123;Subject="CN=cart";URI=spiffe://cluster.local/ns/shop/sa/cart';

  it("are believed only from the configured proxy address", async () => {
    const trusted = await get(permissive, "/xfcc", { headers: { "x-forwarded-client-cert": xfcc }, localAddress: "127.0.0.2" });
    expect(trusted.status).toBe(200);
    expect(upstream.received.at(-1)!.headers["x-meshgate-principal"]).toBe("spiffe://cluster.local/ns/shop/sa/cart");
    expect(upstream.received.at(-1)!.headers["x-forwarded-client-cert"]).toBeUndefined();
  });

  it("take the element the trusted proxy appended, also when the client sent a line of its own", async () => {
    // Issue 14 item 13: two header lines are one list; the client's forged line comes first.
    const forged = 'Hash=ffff;Subject="CN=admin";URI=spiffe://cluster.local/ns/admin/sa/root';
    for (const headers of [{ "x-forwarded-client-cert": [forged, xfcc] }, { "x-forwarded-client-cert": `${forged},${xfcc}` }]) {
      const res = await get(permissive, "/xfcc", { headers, localAddress: "127.0.0.2" });
      expect(res.status).toBe(200);
      expect(upstream.received.at(-1)!.headers["x-meshgate-principal"]).toBe("spiffe://cluster.local/ns/shop/sa/cart");
    }
  });

  it("are ignored from anyone else: spoofing gets 401", async () => {
    const spoofed = await get(permissive, "/xfcc", { headers: { "x-forwarded-client-cert": xfcc }, localAddress: "127.0.0.3" });
    expect([spoofed.status, spoofed.code]).toEqual([401, "client_certificate_required"]);
  });
});

describe("STRICT: the handshake itself requires a valid certificate", () => {
  it("accepts a valid client certificate", async () => {
    expect((await get(strict, "/open", { cert: client })).status).toBe(200);
  });

  for (const [name, cert] of [
    ["no certificate", undefined],
    ["an expired certificate", () => expired],
    ["a certificate from another CA", () => foreign],
  ] as const) {
    it(`refuses ${name} at the TLS layer`, async () => {
      await expect(get(strict, "/open", cert ? { cert: cert() } : {})).rejects.toThrow();
    });
  }
});

describe("certificate rotation", () => {
  it("serves a rotated certificate to new connections without a restart, and keeps the old one if the new files are broken", async () => {
    const { connect } = await import("node:tls");
    const first = await ca.issue({ subject: "CN=gateway-2026", ips: ["127.0.0.1"], server: true });
    const second = await ca.issue({ subject: "CN=gateway-2027", ips: ["127.0.0.1"], server: true });
    let files = { cert: first.cert, key: first.key };
    const gw = await startTestGateway(FILES(upstream.url), { tls: { ...files, reload: () => ({ ...files }), reloadMs: 50 } });
    const servedCn = () =>
      new Promise<string>((resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port: gw.gateway.port, ca: ca.cert, servername: "localhost", checkServerIdentity: () => undefined }, () => {
          resolve(String(socket.getPeerCertificate().subject.CN));
          socket.end();
        });
        socket.on("error", reject);
      });
    try {
      expect(await servedCn()).toBe("gateway-2026");
      files = { cert: second.cert, key: second.key };
      await until(async () => (await servedCn()) === "gateway-2027", 3_000, "rotated certificate served");
      files = { cert: "not a certificate", key: second.key };
      await new Promise((r) => setTimeout(r, 200));
      expect(await servedCn()).toBe("gateway-2027");
    } finally {
      await gw.close();
    }
  });
});
