import { request as httpsRequest } from "node:https";
import { constants } from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";
import { createCa, type Issued, type TestCa } from "../support/pki.js";
import { h2Request, h2Session } from "../support/h2-client.js";
import { rawExchange } from "../support/raw-socket.js";

let up: TestUpstream;
let plain: TestGateway, tls: TestGateway, tight: TestGateway;
let ca: TestCa, serverCert: Issued, clientCert: Issued;

const files = (url: string) => ({
  "b.yaml": backendYaml("app", [url]),
  "r.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: app }
spec:
  rules:
    - { name: open, matches: [{ path: { type: PathPrefix, value: / } }], backendRefs: [{ name: app, port: 80 }] }
    - { name: cert, matches: [{ path: { type: PathPrefix, value: /cert } }], backendRefs: [{ name: app, port: 80 }] }
`,
  "s.yaml": `apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: cert }
spec:
  targetRefs: [{ kind: HTTPRoute, name: app, sectionName: cert }]
  clientCertificate: { required: true }
  authorization:
    rules: [{ name: shop, action: ALLOW, principals: ["spiffe://cluster.local/ns/shop/*"] }]
`,
});

beforeAll(async () => {
  up = await startUpstream("app");
  ca = await createCa("listener CA");
  [serverCert, clientCert] = await Promise.all([ca.issue({ subject: "CN=gateway", ips: ["127.0.0.1"], server: true }), ca.issue({ subject: "CN=cart", uris: ["spiffe://cluster.local/ns/shop/sa/cart"] })]);
  [plain, tls, tight] = await Promise.all([
    startTestGateway(files(up.url)),
    startTestGateway(files(up.url), { tls: { cert: serverCert.cert, key: serverCert.key, clientCa: ca.cert } }),
    startTestGateway(files(up.url), { http2: { maxConcurrentStreams: 7, maxHeaderListSize: 8_192, maxResetsPerSecond: 50 } }),
  ]);
});

afterAll(async () => {
  await Promise.all([plain?.close(), tls?.close(), tight?.close()]);
  await up?.close();
});

describe("plain port: HTTP/1.1 and h2c prior knowledge on the same port", () => {
  it("an h2c client is served, its :authority forwarded as Host", async () => {
    const session = await h2Session(plain.url);
    const res = await h2Request(session, { ":path": "/h2c/x?q=1", ":authority": "shop.example.com" });
    session.close();
    expect(res.status).toBe(200);
    expect(res.headers["x-upstream"]).toBe("app");
    const echo = JSON.parse(res.body.toString()) as { url: string; headers: Record<string, string> };
    expect(echo.url).toBe("/h2c/x?q=1");
    expect(echo.headers.host).toBe("shop.example.com");
    expect(echo.headers["x-forwarded-proto"]).toBe("http");
  });

  it("many streams share one connection, bodies both ways", async () => {
    const session = await h2Session(plain.url);
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => h2Request(session, { ":path": `/s/${i}`, ":method": "POST", "content-type": "text/plain" }, `body-${i}`)));
    session.close();
    answers.forEach((a, i) => expect(JSON.parse(a.body.toString())).toMatchObject({ url: `/s/${i}`, method: "POST", body: `body-${i}` }));
  });

  it("HTTP/1.1 still works, byte for byte", async () => {
    const res = await rawExchange(plain.gateway.port, "GET /h1 HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n");
    expect(res.status).toBe(200);
  });

  it("gateway errors reach h2 clients too (no route: 404 JSON)", async () => {
    const session = await h2Session(tight.url);
    await tight.write({ "r.yaml": `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: app }\nspec:\n  hostnames: [only.example.com]\n  rules: [{ backendRefs: [{ name: app, port: 80 }] }]\n` });
    const res = await h2Request(session, { ":path": "/x", ":authority": "other.example.com" });
    session.close();
    await tight.write(files(up.url));
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body.toString())).toMatchObject({ error: { code: "no_route" } });
  });
});

describe("TLS port: ALPN h2 and http/1.1, client certificates on both", () => {
  it("h2 by ALPN with a SPIFFE client certificate passes the SecurityPolicy", async () => {
    const session = await h2Session(tls.url.replace("http:", "https:"), { ca: ca.cert, cert: clientCert.cert, key: clientCert.key });
    expect(session.alpnProtocol).toBe("h2");
    const ok = await h2Request(session, { ":path": "/cert/x" });
    session.close();
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body.toString()).headers["x-forwarded-proto"]).toBe("https");
  });

  it("h2 without a client certificate is refused by the policy (401), open rules still served", async () => {
    const session = await h2Session(tls.url.replace("http:", "https:"), { ca: ca.cert });
    const refused = await h2Request(session, { ":path": "/cert/x" });
    const open = await h2Request(session, { ":path": "/open" });
    session.close();
    expect(refused.status).toBe(401);
    expect(open.status).toBe(200);
  });

  it("http/1.1 by ALPN with the same certificate", async () => {
    const res = await new Promise<{ status: number; alpn: string | false | null }>((resolve, reject) => {
      const req = httpsRequest(`${tls.url.replace("http:", "https:")}/cert/x`, { ca: ca.cert, cert: clientCert.cert, key: clientCert.key, ALPNProtocols: ["http/1.1"] } as import("node:https").RequestOptions, (r) => {
        const alpn = (r.socket as import("node:tls").TLSSocket).alpnProtocol;
        r.resume();
        r.on("end", () => resolve({ status: r.statusCode ?? 0, alpn }));
      });
      req.on("error", reject);
      req.end();
    });
    expect(res).toEqual({ status: 200, alpn: "http/1.1" });
  });
});

describe("HTTP/2 limits", () => {
  it("announces max concurrent streams and max header list size", async () => {
    const session = await h2Session(tight.url);
    await new Promise<void>((resolve) => (session.remoteSettings.maxConcurrentStreams === 7 ? resolve() : session.once("remoteSettings", () => resolve())));
    expect(session.remoteSettings.maxConcurrentStreams).toBe(7);
    expect(session.remoteSettings.maxHeaderListSize).toBe(8_192);
    session.close();
  });

  it("a header block over the limit is refused, the connection and other clients unharmed", async () => {
    const session = await h2Session(tight.url);
    const big = await h2Request(session, { ":path": "/big", "x-big": "a".repeat(16_000) }).then((r) => r.status, (err: Error) => err.message);
    expect(big).not.toBe(200);
    const other = await h2Session(tight.url);
    expect((await h2Request(other, { ":path": "/ok" })).status).toBe(200);
    other.close();
    session.destroy();
  });

  it("rapid reset (CVE-2023-44487): a client resetting streams faster than the bound is disconnected with ENHANCE_YOUR_CALM", async () => {
    const session = await h2Session(tight.url);
    const closed = new Promise<number | null>((resolve) => {
      let code: number | null = null;
      session.on("goaway", (errorCode: number) => (code = errorCode));
      session.on("close", () => resolve(code));
    });
    const arrivedBefore = up.received.length;
    for (let i = 0; i < 400 && !session.destroyed && !session.closed; i++) {
      try {
        const stream = session.request({ ":path": `/flood/${i}` });
        stream.on("error", () => undefined);
        stream.close(constants.NGHTTP2_CANCEL);
      } catch {
        break;
      }
      // Let the frames leave in small batches, as a flooding client's would.
      if (i % 20 === 19) await new Promise((r) => setImmediate(r));
    }
    expect(await closed).toBe(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    // Far fewer requests than the client opened reached the upstream.
    expect(up.received.length - arrivedBefore).toBeLessThan(400);
    const metrics = await (await fetch(`${tight.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/meshgate_downstream_http2_reset_floods_total [1-9]/);
    // The gateway still serves everyone else.
    const next = await h2Session(tight.url);
    expect((await h2Request(next, { ":path": "/after" })).status).toBe(200);
    next.close();
  });

  it("resetting at a moderate rate is allowed", async () => {
    const session = await h2Session(tight.url);
    for (let i = 0; i < 20; i++) {
      const stream = session.request({ ":path": `/calm/${i}` });
      stream.on("error", () => undefined);
      stream.close(constants.NGHTTP2_CANCEL);
      await new Promise((r) => setTimeout(r, 30));
    }
    expect((await h2Request(session, { ":path": "/still-open" })).status).toBe(200);
    session.close();
  });
});
