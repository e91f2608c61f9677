import { createServer as createH2Server, constants, type Http2Server, type ServerHttp2Session } from "node:http2";
import { createServer as createHttpsServer } from "node:https";
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { Server, ServerCredentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { ECHO_SERVICE, echoClient, startEchoServer, type EchoClientInstance, type EchoServer } from "../support/grpc-echo.js";
import { startH2Upstream, type H2Upstream } from "../support/h2-upstream.js";
import { startTcpCounter, type TcpCounter } from "../support/tcp-counter.js";
import { freePort } from "../support/free-port.js";
import { h2Session } from "../support/h2-client.js";
import { createCa } from "../support/pki.js";

const h2Backend = (name: string, url: string, extra = "") => `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: ${name} }
spec:
  appProtocol: kubernetes.io/h2c
  endpoints: [{ url: "${url}" }]
${extra}---
`;
const route = (path: string, backend: string, extra = "") => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r${path.replaceAll("/", "-")} }
spec:
  rules:
    - matches: [{ path: { type: PathPrefix, value: ${path} } }]
      backendRefs: [{ name: ${backend}, port: 80 }]
${extra}---
`;
const grpcRoute = (name: string, host: string, backend: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: ${name} }
spec:
  hostnames: [${host}]
  rules: [{ backendRefs: [{ name: ${backend}, port: 50051 }] }]
---
`;

function unary(c: EchoClientInstance, method: string, body: string): Promise<{ err: ServiceError | null; value?: string }> {
  return new Promise((resolve) => {
    c[method]!(Buffer.from(body), new Metadata(), (err: ServiceError | null, value?: Buffer) => resolve({ err, ...(value ? { value: value.toString() } : {}) }));
  });
}

/** POSTs `body` through the gateway and reads the whole answer. */
async function post(url: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: "POST", body });
  return { status: res.status, text: await res.text() };
}

/** Runs `total` calls of `call`, at most `concurrency` at once. */
async function load<T>(total: number, concurrency: number, call: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
      const i = next++;
      out[i] = await call(i);
    }
  }));
  return out;
}

let echo: EchoServer, echoCounter: TcpCounter;
let narrow: H2Upstream, queued: H2Upstream, goaway: H2Upstream, idle: H2Upstream, left: H2Upstream, right: H2Upstream, survivor: H2Upstream;
let aged: Server, agedCounter: TcpCounter;
let dying: Http2Server, dyingPort: number, closedPort: number;
let dyingStreams = 0;
let h1Tls: ReturnType<typeof createHttpsServer>, h1TlsPort: number;
let gw: TestGateway;
let client: EchoClientInstance, agedClient: EchoClientInstance;

/** A node:http2 server that answers "/dies/early" by dropping the connection before any answer, and "/dies/mid" after the headers and a first chunk. */
async function startDyingServer(): Promise<{ server: Http2Server; port: number }> {
  const server = createH2Server();
  server.on("stream", (stream, headers) => {
    dyingStreams++;
    if (String(headers[":path"]).startsWith("/dies/mid")) {
      stream.respond({ ":status": 200, "content-type": "text/plain" });
      stream.write("first part;");
      setTimeout(() => stream.session?.destroy(), 50);
    } else stream.session?.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

beforeAll(async () => {
  const ca = await createCa("pool CA");
  const cert = await ca.issue({ subject: "CN=h1only", ips: ["127.0.0.1"], server: true });
  echo = await startEchoServer("echo");
  echoCounter = await startTcpCounter(echo.port);
  [narrow, queued, goaway, idle, left, right, survivor] = await Promise.all([startH2Upstream("narrow", undefined, { maxConcurrentStreams: 2 }), startH2Upstream("queued", undefined, { maxConcurrentStreams: 2 }), startH2Upstream("goaway"), startH2Upstream("idle"), startH2Upstream("left"), startH2Upstream("right"), startH2Upstream("survivor")]);
  // Slow answers keep streams open, so concurrency needs the streams the server allows.
  for (const u of [narrow, queued]) {
    const respond = u.respond;
    u.respond = (req, res, body) => void setTimeout(() => respond(req, res, body), 300);
  }
  // Every 25th stream: GOAWAY naming the last stream the server took, then close once in-flight streams finish.
  let streams = 0;
  const respond = goaway.respond;
  goaway.respond = (req, res, body) => {
    respond(req, res, body);
    if (++streams % 25 !== 0) return;
    const session = req.stream.session as ServerHttp2Session;
    session.goaway(constants.NGHTTP2_NO_ERROR, session.state.lastProcStreamID ?? req.stream.id);
    session.close();
  };
  aged = new Server({ "grpc.max_connection_age_ms": 150, "grpc.max_connection_age_grace_ms": 5_000 });
  aged.addService(ECHO_SERVICE, { Unary: (call: { request: Buffer }, cb: (e: null, v: Buffer) => void) => setTimeout(() => cb(null, call.request), 5) } as never);
  const agedPort = await new Promise<number>((resolve, reject) => aged.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  agedCounter = await startTcpCounter(agedPort);
  ({ server: dying, port: dyingPort } = await startDyingServer());
  closedPort = await freePort();
  h1Tls = createHttpsServer({ cert: cert.cert, key: cert.key }, (req, res) => res.end(`h1 over TLS: ${req.httpVersion}`));
  await new Promise<void>((resolve) => h1Tls.listen(0, "127.0.0.1", resolve));
  h1TlsPort = (h1Tls.address() as AddressInfo).port;
  gw = await startTestGateway({
    "b.yaml":
      h2Backend("echo", `http://127.0.0.1:${echoCounter.port}`) +
      h2Backend("aged", `http://127.0.0.1:${agedCounter.port}`) +
      h2Backend("narrow", narrow.url) +
      h2Backend("queued", queued.url, "  connection: { maxConnections: 1 }\n") +
      h2Backend("goaway", goaway.url) +
      h2Backend("idle", idle.url, "  connection: { idleTimeout: 200ms }\n") +
      h2Backend("dying", `http://127.0.0.1:${dyingPort}`) +
      h2Backend("closed", `http://127.0.0.1:${closedPort}`) +
      // One endpoint resets every stream: one gateway error ejects it.
      `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: outlier }
spec:
  appProtocol: kubernetes.io/h2c
  endpoints: [{ url: "http://127.0.0.1:${dyingPort}" }, { url: "${survivor.url}" }]
  outlierDetection: { consecutiveGatewayErrors: 1 }
---
apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: pair }
spec:
  appProtocol: kubernetes.io/h2c
  endpoints: [{ url: "${left.url}" }, { url: "${right.url}" }]
  outlierDetection: { consecutiveGatewayErrors: 1 }
---
` +
      h2Backend("h1tls", `https://127.0.0.1:${h1TlsPort}`, `  tls: { ca: ${JSON.stringify(ca.cert)} }\n`),
    "r.yaml":
      grpcRoute("echo", "grpc.example.com", "echo") +
      grpcRoute("aged", "aged.example.com", "aged") +
      route("/narrow", "narrow") +
      route("/queued", "queued") +
      route("/goaway", "goaway") +
      route("/idle", "idle") +
      route("/dies", "dying") +
      route("/closed", "closed") +
      route("/outlier", "outlier") +
      route("/pair", "pair") +
      route("/h1tls", "h1tls"),
  });
  client = echoClient(`127.0.0.1:${gw.gateway.port}`, "grpc.example.com");
  agedClient = echoClient(`127.0.0.1:${gw.gateway.port}`, "aged.example.com");
});

afterAll(async () => {
  client?.close();
  agedClient?.close();
  await gw?.close();
  await Promise.all([echo, echoCounter, agedCounter, narrow, queued, goaway, idle, left, right, survivor].map((u) => u?.close()));
  aged?.forceShutdown();
  dying?.close();
  h1Tls?.close();
});

describe("HTTP/2 upstream sessions (node:http2 session pool)", () => {
  it("100 concurrent gRPC calls (POSTs with streamed bodies) share one connection to the grpc-js server", async () => {
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => unary(client, "Unary", `call-${i}`)));
    expect(results.map((r) => r.err)).toEqual(Array(100).fill(null));
    expect(results.map((r) => r.value)).toEqual(Array.from({ length: 100 }, (_, i) => `call-${i}`));
    expect(echoCounter.accepted).toBe(1);
  });

  it("a server allowing 2 concurrent streams gets a second connection for 4 concurrent calls", async () => {
    const all = await Promise.all(Array.from({ length: 4 }, (_, i) => post(`${gw.url}/narrow/${i}`, `b${i}`)));
    expect(all.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(all.map((r) => (JSON.parse(r.text) as { body: string }).body)).toEqual(["b0", "b1", "b2", "b3"]);
    expect(narrow.sessions).toBe(2);
  });

  it("with connection.maxConnections: 1 the calls past the peer's 2 streams wait for a slot on that one connection", async () => {
    const started = Date.now();
    const all = await Promise.all(Array.from({ length: 6 }, (_, i) => post(`${gw.url}/queued/${i}`, `q${i}`)));
    expect(all.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(queued.sessions).toBe(1);
    // Three rounds of two 300 ms answers.
    expect(Date.now() - started).toBeGreaterThanOrEqual(850);
  });

  it("a server sending GOAWAY mid-load (every 25 streams) loses no request: refused streams are sent again on a new connection", async () => {
    const all = await load(200, 20, (i) => post(`${gw.url}/goaway/${i}`, `g${i}`));
    expect(all.filter((r) => r.status !== 200)).toEqual([]);
    expect(all.map((r) => (JSON.parse(r.text) as { body: string }).body)).toEqual(Array.from({ length: 200 }, (_, i) => `g${i}`));
    expect(goaway.seen.length).toBeGreaterThanOrEqual(200);
    expect(goaway.sessions).toBeGreaterThanOrEqual(8);
  });

  it("a grpc-js server with a 150 ms max connection age (GOAWAY, then close) under load: zero failed calls", async () => {
    const results = await load(300, 10, (i) => unary(agedClient, "Unary", `aged-${i}`));
    expect(results.filter((r) => r.err !== null).map((r) => r.err!.message)).toEqual([]);
    expect(results.map((r) => r.value)).toEqual(Array.from({ length: 300 }, (_, i) => `aged-${i}`));
    expect(agedCounter.accepted).toBeGreaterThanOrEqual(2);
  });

  it("an idle session closes after connection.idleTimeout", async () => {
    expect((await post(`${gw.url}/idle/x`, "i")).status).toBe(200);
    expect(idle.open).toBe(1);
    await new Promise((r) => setTimeout(r, 600));
    expect(idle.open).toBe(0);
    expect((await post(`${gw.url}/idle/y`, "j")).status).toBe(200);
    expect(idle.sessions).toBe(2);
  });

  it("an https:// endpoint whose ALPN answer is http/1.1 is spoken to in HTTP/1.1", async () => {
    const res = await fetch(`${gw.url}/h1tls/x`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("h1 over TLS: 1.1");
  });
});

describe("HTTP/2 upstream failures", () => {
  it("a refused connection is 503 upstream_unavailable", async () => {
    const res = await fetch(`${gw.url}/closed/x`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("upstream_unavailable");
  });

  it("a server that dies before answering is 502 upstream_reset", async () => {
    const res = await fetch(`${gw.url}/dies/early`, { method: "POST", body: "x" });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("upstream_reset");
  });

  it("a server that dies mid-stream breaks the client's response after the part it sent (no clean end)", async () => {
    const res = await fetch(`${gw.url}/dies/mid`);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value!).toString()).toBe("first part;");
    await expect((async () => {
      for (;;) if ((await reader.read()).done) return "clean end";
    })()).rejects.toThrow();
  });
});

describe("HTTP/2 upstream failures and outlier detection", () => {
  it("a reset before the answer counts as a gateway error: the endpoint is ejected and later requests go to the other one", async () => {
    const before = dyingStreams;
    const all = [];
    for (let i = 0; i < 12; i++) all.push((await fetch(`${gw.url}/outlier/${i}`)).status);
    // The resetting endpoint is tried at most once before it is ejected.
    expect(dyingStreams - before).toBeLessThanOrEqual(1);
    expect(all.filter((s) => s !== 200).length).toBe(dyingStreams - before);
    expect(survivor.seen.length).toBe(12 - (dyingStreams - before));
  });

  it("a request node:http2 refuses to send (If-Match on two lines, one field for node:http2) is 400 request_not_forwardable and never ejects an endpoint", async () => {
    for (let i = 0; i < 4; i++) {
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(`${gw.url}/pair/bad`, { method: "POST", headers: ["host", "pair.example.com", "if-match", "\"a\"", "if-match", "\"b\""] as unknown as Record<string, string> }, (r) => {
          const chunks: Buffer[] = [];
          r.on("data", (c: Buffer) => chunks.push(c));
          r.on("end", () => resolve({ status: r.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        });
        req.on("error", reject);
        req.end("x");
      });
      expect(res.status).toBe(400);
      expect((JSON.parse(res.body) as { error: { code: string } }).error.code).toBe("request_not_forwardable");
    }
    expect(left.seen.length + right.seen.length).toBe(0);
    for (let i = 0; i < 24; i++) expect((await fetch(`${gw.url}/pair/good`)).status).toBe(200);
    expect(left.seen.length).toBeGreaterThan(0);
    expect(right.seen.length).toBeGreaterThan(0);
  });
});

describe("client request trailers are forwarded to HTTP/2 upstreams", () => {
  it("an HTTP/2 gRPC-style request's trailing HEADERS reach the upstream", async () => {
    const session = await h2Session(gw.url);
    try {
      const answer = await new Promise<number>((resolve, reject) => {
        const stream = session.request({ ":method": "POST", ":path": "/pair/trailers-h2", "content-type": "application/grpc", te: "trailers" }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "x-checksum": "abc123" }));
        let status = 0;
        stream.on("response", (h) => (status = Number(h[":status"])));
        stream.on("end", () => resolve(status));
        stream.on("error", reject);
        stream.resume();
        stream.end("payload");
      });
      expect(answer).toBe(200);
    } finally {
      session.close();
    }
    const seen = [...left.seen, ...right.seen].find((s) => s.url === "/pair/trailers-h2")!;
    expect(seen.body).toBe("payload");
    expect(seen.trailers["x-checksum"]).toBe("abc123");
  });

  it("HTTP/1.1 chunked trailers announced by a Trailer field reach an HTTP/2 upstream as trailing HEADERS", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${gw.url}/pair/trailers-h1`, { method: "POST", headers: { trailer: "x-checksum", "transfer-encoding": "chunked" } }, (r) => {
        r.resume();
        r.on("end", () => resolve(r.statusCode ?? 0));
      });
      req.on("error", reject);
      req.write("chunk-1;");
      req.addTrailers({ "x-checksum": "def456" });
      req.end("chunk-2");
    });
    expect(status).toBe(200);
    const seen = [...left.seen, ...right.seen].find((s) => s.url === "/pair/trailers-h1")!;
    expect(seen.body).toBe("chunk-1;chunk-2");
    expect(seen.trailers["x-checksum"]).toBe("def456");
  });
});
