import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { startH2Upstream, type H2Upstream } from "../support/h2-upstream.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";
import { createCa } from "../support/pki.js";
import { compileSnapshot } from "../../src/snapshot/compile-snapshot.js";
import { PolicyError } from "../../src/policy/issues.js";

let h2c: H2Upstream, h2tls: H2Upstream, h1: TestUpstream;
let gw: TestGateway;

const route = (name: string, path: string, ref: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name} }
spec:
  rules:
    - matches: [{ path: { type: PathPrefix, value: ${path} } }]
      backendRefs: [${ref}]
---
`;

beforeAll(async () => {
  const ca = await createCa("upstream CA");
  const cert = await ca.issue({ subject: "CN=h2", ips: ["127.0.0.1"], server: true });
  [h2c, h2tls, h1] = await Promise.all([startH2Upstream("h2c"), startH2Upstream("h2tls", cert), startUpstream("h1")]);
  gw = await startTestGateway({
    "backends.yaml": `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: grpc-echo }
spec:
  appProtocol: kubernetes.io/h2c
  endpoints: [{ url: "${h2c.url}" }]
---
apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: tls-h2 }
spec:
  appProtocol: kubernetes.io/h2c
  endpoints: [{ url: "${h2tls.url}" }]
  tls: { ca: ${JSON.stringify(ca.cert)} }
---
apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: tls-h1 }
spec:
  endpoints: [{ url: "${h2tls.url}" }]
  tls: { ca: ${JSON.stringify(ca.cert)} }
---
apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: multi }
spec:
  # The endpoint URL names no port: the port a backendRef picks supplies it.
  endpoints: [{ url: "http://127.0.0.1" }]
  ports:
    - { name: http, port: 80, targetPort: ${h1.port} }
    - { name: grpc, port: 9000, targetPort: ${h2c.port}, appProtocol: kubernetes.io/h2c }
`,
    "routes.yaml":
      route("h2c", "/h2c", "{ name: grpc-echo, port: 8080 }") +
      route("tls-h2", "/tls-h2", "{ name: tls-h2, port: 443 }") +
      route("tls-h1", "/tls-h1", "{ name: tls-h1, port: 443 }") +
      route("multi-http", "/multi/http", "{ name: multi, port: 80 }") +
      route("multi-grpc", "/multi/grpc", "{ name: multi, port: 9000 }") +
      route("multi-unknown", "/multi/unknown", "{ name: multi, port: 7 }"),
  });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([h2c?.close(), h2tls?.close(), h1?.close()]);
});

describe("Backend appProtocol (HTTP/1.1 client, HTTP/2 upstream)", () => {
  it("kubernetes.io/h2c speaks HTTP/2 prior knowledge to an http:// endpoint, keeping Host as :authority", async () => {
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${gw.url}/h2c/echo?x=1`, { method: "POST", headers: { host: "echo.example.com" } }, (r) => {
        const chunks: Buffer[] = [];
        r.on("data", (c: Buffer) => chunks.push(c));
        r.on("end", () => resolve({ status: r.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on("error", reject);
      req.end("ping");
    });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body) as Record<string, unknown>;
    expect(body).toMatchObject({ upstream: "h2c", httpVersion: "2.0", method: "POST", url: "/h2c/echo?x=1", host: "echo.example.com", body: "ping" });
  });

  it("carries concurrent requests", async () => {
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => fetch(`${gw.url}/h2c/${i}`).then((r) => r.json() as Promise<{ url: string }>)));
    expect(all.map((b) => b.url).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `/h2c/${i}`).sort());
  });

  it("on https:// negotiates h2 by ALPN when asked for, HTTP/1.1 otherwise", async () => {
    const h2 = (await (await fetch(`${gw.url}/tls-h2/x`)).json()) as Record<string, unknown>;
    expect(h2).toMatchObject({ httpVersion: "2.0", alpn: "h2" });
    const h1res = (await (await fetch(`${gw.url}/tls-h1/x`)).json()) as Record<string, unknown>;
    expect(h1res).toMatchObject({ httpVersion: "1.1" });
  });
});

describe("Backend ports[]: a backendRef's port picks target port and protocol", () => {
  it("port 80 reaches the HTTP/1.1 target port", async () => {
    const res = await fetch(`${gw.url}/multi/http/a`);
    expect(res.headers.get("x-upstream")).toBe("h1");
  });

  it("port 9000 reaches the h2c target port over HTTP/2", async () => {
    const body = (await (await fetch(`${gw.url}/multi/grpc/a`)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ upstream: "h2c", httpVersion: "2.0" });
  });

  it("a port the Backend does not list is a warning and answers 500", async () => {
    const res = await fetch(`${gw.url}/multi/unknown/a`);
    expect(res.status).toBe(500);
    const warning = gw.gateway.holder.current().warnings.find((w) => w.message.includes("has no port 7"));
    expect(warning?.message).toContain("Backend default/multi has no port 7 (it lists 80, 9000)");
  });
});

describe("appProtocol validation", () => {
  const backend = (spec: string) => [{ name: "b.yaml", text: `apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: b }\nspec:\n${spec}\n` }];
  const errors = async (spec: string) => {
    try {
      await compileSnapshot(backend(spec), { location: "test", files: [] }, undefined, { http2Upstreams: "allow" });
      return [];
    } catch (err) {
      return (err as PolicyError).issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    }
  };

  it("refuses unknown values with the accepted list and a did-you-mean", async () => {
    const e = await errors(`  appProtocol: h2c\n  endpoints: [{ url: "http://127.0.0.1:1" }]`);
    expect(e.join("\n")).toMatch(/spec\.appProtocol: unsupported appProtocol "h2c" \(did you mean kubernetes\.io\/h2c\?\)/);
  });

  it("refuses a TLS protocol on an http:// endpoint and ws on https://", async () => {
    expect((await errors(`  appProtocol: kubernetes.io/wss\n  endpoints: [{ url: "http://127.0.0.1:1" }]`)).join()).toContain("spec.endpoints.0.url: appProtocol kubernetes.io/wss needs https:// endpoints");
    expect((await errors(`  endpoints: [{ url: "https://127.0.0.1:1" }]\n  ports: [{ port: 80, appProtocol: kubernetes.io/ws }]`)).join()).toContain("spec.ports.0.appProtocol: appProtocol kubernetes.io/ws is WebSocket without TLS");
  });

  it("refuses a port listed twice", async () => {
    expect((await errors(`  endpoints: [{ url: "http://127.0.0.1:1" }]\n  ports: [{ port: 80 }, { port: 80, targetPort: 81 }]`)).join()).toContain("spec.ports.1.port: port 80 is listed twice");
  });

  it("accepts every documented value", async () => {
    for (const v of ["http", "kubernetes.io/h2c", "grpc", "kubernetes.io/ws"]) expect(await errors(`  appProtocol: ${v}\n  endpoints: [{ url: "http://127.0.0.1:1" }]`)).toEqual([]);
    for (const v of ["https", "kubernetes.io/h2c", "grpc", "kubernetes.io/wss"]) expect(await errors(`  appProtocol: ${v}\n  endpoints: [{ url: "https://127.0.0.1:1" }]`)).toEqual([]);
  });
});
