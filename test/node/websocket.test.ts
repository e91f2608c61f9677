import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { IncomingMessage } from "node:http";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { startWsUpstream, type WsUpstream } from "../support/ws-upstream.js";
import { sha256Hex } from "../../src/identity/api-keys.js";
import { freePort } from "../support/free-port.js";
import { createCa, type TestCa } from "../support/pki.js";

let up: WsUpstream;
let gw: TestGateway;

/** Opens a WebSocket through the gateway; rejects with the HTTP answer when there is no 101. */
function connect(url: string, options: WebSocket.ClientOptions = {}, protocols: string[] = []): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res: IncomingMessage) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, headers: res.headers, body })));
    });
    ws.once("error", reject);
  });
}

function next(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve, reject) => {
    ws.once("message", (data: Buffer, binary: boolean) => resolve({ data, binary }));
    ws.once("close", () => reject(new Error("closed before a message")));
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve({ code: -1, reason: "" });
    ws.once("close", (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
  });
}

async function refusal(promise: Promise<WebSocket>): Promise<{ status: number; body: string; headers: IncomingMessage["headers"] }> {
  try {
    const ws = await promise;
    ws.terminate();
  } catch (err) {
    return err as { status: number; body: string; headers: IncomingMessage["headers"] };
  }
  throw new Error("the handshake was accepted");
}

async function until(probe: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const metric = async (name: string) => {
  const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name));
  return line === undefined ? null : Number(line.split(" ").pop());
};

beforeAll(async () => {
  up = await startWsUpstream();
  const deadPort = await freePort();
  gw = await startTestGateway({
    // Gateway API conformance httproute-backend-protocol-websocket: a Service port with appProtocol kubernetes.io/ws.
    "service.yaml": `apiVersion: v1
kind: Service
metadata: { name: infra-backend-v1 }
spec:
  ports:
    - { name: third-port, appProtocol: kubernetes.io/ws, protocol: TCP, port: 8082, targetPort: ${up.port} }
---
apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: infra-backend-v1 }
spec: { endpoints: [{ url: "http://127.0.0.1" }] }
`,
    "backends.yaml": [backendYaml("echo", [up.url]), backendYaml("dead", [`http://127.0.0.1:${deadPort}`])].join("---\n"),
    "idle.yaml": `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: idle }
spec:
  endpoints: [{ url: "${up.url}" }]
  timeouts: { streamIdle: 300ms }
`,
    "routes.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: backend-protocol-ws }
spec:
  hostnames: [conformance.test]
  rules:
    - backendRefs: [{ name: infra-backend-v1, port: 8082 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ws }
spec:
  hostnames: [ws.test]
  rules:
    - name: secure
      matches: [{ path: { type: PathPrefix, value: /secure } }]
      backendRefs: [{ name: echo }]
    - name: limited
      matches: [{ path: { type: PathPrefix, value: /limited } }]
      backendRefs: [{ name: echo }]
    - matches: [{ path: { type: PathPrefix, value: /dead } }]
      backendRefs: [{ name: dead }]
    - matches: [{ path: { type: PathPrefix, value: /idle } }]
      backendRefs: [{ name: idle }]
    - matches: [{ path: { type: PathPrefix, value: / } }]
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier: { set: [{ name: x-added-by-filter, value: "yes" }] }
        - type: ResponseHeaderModifier
          responseHeaderModifier: { set: [{ name: x-response-filter, value: "on-101" }] }
      backendRefs: [{ name: echo }]
`,
    "policies.yaml": `apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: keys }
spec:
  targetRefs: [{ kind: HTTPRoute, name: ws, sectionName: secure }]
  apiKey:
    extractFrom: { headers: [{ name: x-api-key }] }
    keys:
      - { consumer: alice, hash: "sha256:${await sha256Hex("alice-key")}" }
---
apiVersion: meshgate.dev/v1alpha1
kind: RateLimitPolicy
metadata: { name: one-socket }
spec:
  targetRefs: [{ kind: HTTPRoute, name: ws, sectionName: limited }]
  rules: [{ name: everyone, key: shared, limit: { requests: 1, period: 60s } }]
`,
  });
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
});

const wsUrl = (path: string) => gw.url.replace("http:", "ws:") + path;
const host = (name: string) => ({ headers: { host: name } });

describe("WebSockets through the Node gateway", () => {
  it("relays text and binary frames both ways (conformance: backend-protocol-websocket, appProtocol kubernetes.io/ws)", async () => {
    const ws = await connect(wsUrl("/ws"), host("conformance.test"));
    ws.send("Websocket Support!");
    const text = await next(ws);
    expect(text).toEqual({ data: Buffer.from("Websocket Support!"), binary: false });
    ws.send(Buffer.from([1, 2, 3, 4, 5, 6, 7]));
    const bin = await next(ws);
    expect(bin.binary).toBe(true);
    expect([...bin.data]).toEqual([1, 2, 3, 4, 5, 6, 7]);
    ws.close(1000);
    expect((await closed(ws)).code).toBe(1000);
  });

  it("passes the handshake through request filters and forwarding headers, negotiates the subprotocol and applies response filters to the 101", async () => {
    const before = up.seen.length;
    let upgradeHeaders: IncomingMessage["headers"] = {};
    const ws = new WebSocket(wsUrl("/chat?room=1"), ["chat", "other"], host("ws.test"));
    ws.once("upgrade", (res: IncomingMessage) => (upgradeHeaders = res.headers));
    await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
    expect(ws.protocol).toBe("chat");
    expect(upgradeHeaders["x-response-filter"]).toBe("on-101");
    expect(upgradeHeaders["x-meshgate-config-version"]).toBeDefined();
    const seen = up.seen.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe("/chat?room=1");
    expect(seen[0]!.headers).toMatchObject({ host: "ws.test", upgrade: "websocket", connection: "upgrade", "x-added-by-filter": "yes", "x-forwarded-for": "127.0.0.1", "sec-websocket-protocol": "chat,other" });
    expect(seen[0]!.headers["x-request-id"]).toBeDefined();
    ws.close();
    await closed(ws);
  });

  it("runs identity before the handshake: no key is a JSON 401 and the upstream never sees it; a valid key opens", async () => {
    const before = up.seen.length;
    const denied = await refusal(connect(wsUrl("/secure"), host("ws.test")));
    expect(denied.status).toBe(401);
    expect(JSON.parse(denied.body).error.code).toBe("api_key_missing");
    expect(up.seen.length).toBe(before);
    const ws = await connect(wsUrl("/secure"), { headers: { host: "ws.test", "x-api-key": "alice-key" } });
    ws.send("hi");
    expect((await next(ws)).data.toString()).toBe("hi");
    ws.close();
    await closed(ws);
  });

  it("rate-limits handshakes: the second connection in the window is a JSON 429", async () => {
    const first = await connect(wsUrl("/limited"), host("ws.test"));
    const second = await refusal(connect(wsUrl("/limited"), host("ws.test")));
    expect(second.status).toBe(429);
    expect(JSON.parse(second.body).error.code).toBe("rate_limited");
    first.close();
    await closed(first);
  });

  it("answers a handshake nobody routes with a JSON 404, and one to a dead backend with a JSON 503", async () => {
    const none = await refusal(connect(wsUrl("/x"), host("nobody.test")));
    expect(none.status).toBe(404);
    expect(JSON.parse(none.body).error.code).toBe("no_route");
    const dead = await refusal(connect(wsUrl("/dead"), host("ws.test")));
    expect(dead.status).toBe(503);
    expect(JSON.parse(dead.body).error.code).toBe("upstream_unavailable");
  });

  it("relays an upstream that refuses the upgrade (400, 200) as it answered", async () => {
    const r400 = await refusal(connect(wsUrl("/refuse-400"), host("ws.test")));
    expect(r400.status).toBe(400);
    expect(r400.body).toBe("refused");
    expect(r400.headers["x-refused"]).toBe("yes");
    const r200 = await refusal(connect(wsUrl("/plain-200"), host("ws.test")));
    expect(r200.status).toBe(200);
    expect(r200.body).toBe("plain");
  });

  it("answers 502 when the upstream resets the handshake (no retry stanza)", async () => {
    const reset = await refusal(connect(wsUrl("/reset"), host("ws.test")));
    expect(reset.status).toBe(502);
    expect(JSON.parse(reset.body).error.code).toBe("upstream_reset");
  });

  it("a close from the client closes the upstream side, with its code", async () => {
    const ws = await connect(wsUrl("/c"), host("ws.test"));
    await until(() => up.open.size > 0);
    const closesBefore = up.closes.length;
    ws.close(4321, "client says bye");
    await closed(ws);
    await until(() => up.closes.length > closesBefore);
    expect(up.closes.at(-1)).toBe(4321);
  });

  it("a close from the upstream closes the client, with its code; an abrupt client drop closes the upstream", async () => {
    const ws = await connect(wsUrl("/c"), host("ws.test"));
    ws.send("close-me");
    expect(await closed(ws)).toEqual({ code: 4001, reason: "asked to" });
    const open = up.open.size;
    const dropper = await connect(wsUrl("/c"), host("ws.test"));
    await until(() => up.open.size === open + 1);
    dropper.terminate();
    await until(() => up.open.size === open);
    expect(up.closes.at(-1)).toBe(1006);
  });

  it("carries large messages both ways with back-pressure", async () => {
    const ws = await connect(wsUrl("/big"), host("ws.test"));
    const big = Buffer.alloc(4 * 1024 * 1024, 3);
    ws.send(big);
    const echoed = await next(ws);
    expect(echoed.data.length).toBe(big.length);
    expect(echoed.data.equals(big)).toBe(true);
    ws.send("flood:2048");
    expect((await next(ws)).data.length).toBe(2048 * 1024);
    ws.close();
    await closed(ws);
  });

  it("closes both sides after the Backend's streamIdle of silence, and counts it", async () => {
    const before = (await metric('meshgate_websocket_connections_closed_total{reason="idle_timeout"}')) ?? 0;
    const ws = await connect(wsUrl("/idle"), host("ws.test"));
    // Traffic keeps it open past the idle timeout...
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 150));
      ws.send(`tick ${i}`);
      await next(ws);
    }
    expect(ws.readyState).toBe(WebSocket.OPEN);
    // ...silence closes it.
    const started = Date.now();
    expect((await closed(ws)).code).toBe(1006);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await metric('meshgate_websocket_connections_closed_total{reason="idle_timeout"}')).toBe(before + 1);
  });

  it("reports open connections, bytes each way and the 101 in the metrics", async () => {
    await until(() => up.open.size === 0);
    const active = (await metric("meshgate_websocket_connections_active"))!;
    const ws = await connect(wsUrl("/m"), host("ws.test"));
    expect(await metric("meshgate_websocket_connections_active")).toBe(active + 1);
    const upBefore = (await metric('meshgate_websocket_bytes_total{direction="upstream"}')) ?? 0;
    ws.send("x".repeat(1000));
    await next(ws);
    // Counted while the connection is still open.
    expect((await metric('meshgate_websocket_bytes_total{direction="upstream"}'))! - upBefore).toBeGreaterThanOrEqual(1000);
    ws.close();
    await closed(ws);
    await until(() => up.open.size === 0);
    await new Promise((r) => setTimeout(r, 50));
    expect(await metric("meshgate_websocket_connections_active")).toBe(active);
    const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(text).toMatch(/meshgate_requests_total\{route="default\/ws\/rule-4",backend="default\/echo",endpoint="[^"]+",code="101",flags="-"\} \d+/);
  });

  it("forwards other upgrades and invalid handshakes as plain requests, without Upgrade", async () => {
    const raw = async (head: string) => {
      const { connect: tcp } = await import("node:net");
      return new Promise<string>((resolve, reject) => {
        const s = tcp(gw.gateway.port, "127.0.0.1", () => s.write(head));
        let out = "";
        s.on("data", (c: Buffer) => (out += c.toString()));
        s.on("end", () => resolve(out));
        s.on("error", reject);
      });
    };
    const h2c = await raw("GET /plain HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nConnection: close\r\n\r\n");
    expect(h2c).toMatch(/^HTTP\/1.1 200/);
    const seen = JSON.parse(h2c.slice(h2c.indexOf("\r\n\r\n") + 4)) as { url: string; upgrade: string | null; connection: string | null };
    expect(seen).toMatchObject({ url: "/plain", upgrade: null });
    expect(seen.connection ?? "").not.toMatch(/upgrade|http2-settings/i);
    expect(up.seen.at(-1)!.headers["http2-settings"]).toBeUndefined();
    // No Sec-WebSocket-Key: not a handshake the gateway relays.
    const noKey = await raw("GET /plain2 HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nConnection: close\r\n\r\n");
    expect(noKey).toMatch(/^HTTP\/1.1 200/);
    expect(JSON.parse(noKey.slice(noKey.indexOf("\r\n\r\n") + 4))).toMatchObject({ url: "/plain2", upgrade: null });
    // A handshake carrying a body is not one (the upstream would read the body out of the tunnel): a plain GET, body whole.
    const withBody = await raw("GET /plain4 HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody");
    expect(withBody).toMatch(/^HTTP\/1.1 200/);
    expect(JSON.parse(withBody.slice(withBody.indexOf("\r\n\r\n") + 4))).toMatchObject({ url: "/plain4", upgrade: null });
    expect(up.seen.at(-1)).toMatchObject({ url: "/plain4", upgrade: false });
    // A POST with a body and an upgrade header: the body still arrives whole.
    const post = await raw("POST /plain3 HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: foo\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    expect(post).toMatch(/^HTTP\/1.1 200/);
    expect(up.seen.at(-1)).toMatchObject({ url: "/plain3", upgrade: false });
  });
});

describe("WebSockets over TLS: wss:// to the gateway and kubernetes.io/wss upstreams", () => {
  let tlsUp: WsUpstream;
  let flaky: WsUpstream;
  let tlsGw: TestGateway;
  let ca: TestCa;

  beforeAll(async () => {
    ca = await createCa("ws-test-ca");
    const server = await ca.issue({ subject: "CN=localhost", dns: ["localhost"], ips: ["127.0.0.1"], server: true });
    tlsUp = await startWsUpstream(server);
    flaky = await startWsUpstream();
    tlsGw = await startTestGateway(
      {
        "b.yaml": `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: secure-ws }
spec:
  appProtocol: kubernetes.io/wss
  endpoints: [{ url: "${tlsUp.url}" }]
  tls: { ca: ${JSON.stringify(ca.cert)} }
---
apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: untrusted-ws }
spec:
  appProtocol: kubernetes.io/wss
  endpoints: [{ url: "${tlsUp.url}" }]
---
${backendYaml("flaky", [flaky.url])}`,
        "r.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: tls-ws }
spec:
  rules:
    - matches: [{ path: { value: /untrusted } }]
      backendRefs: [{ name: untrusted-ws }]
    - matches: [{ path: { value: /reset } }]
      retry: { attempts: 2 }
      backendRefs: [{ name: flaky }]
    - backendRefs: [{ name: secure-ws }]
`,
      },
      // A short request timeout: a WebSocket outlives it (it bounds the handshake, not the connection).
      { tls: { cert: server.cert, key: server.key }, connections: { requestTimeoutMs: 300, headersTimeoutMs: 300 } },
    );
  });

  afterAll(async () => {
    await tlsGw?.close();
    await tlsUp?.close();
    await flaky?.close();
  });

  it("relays frames from a wss:// client through the TLS listener to a TLS upstream verified with the Backend's CA", async () => {
    const ws = await connect(`wss://127.0.0.1:${tlsGw.gateway.port}/secure`, { ca: ca.cert });
    ws.send("over tls");
    expect((await next(ws)).data.toString()).toBe("over tls");
    // Longer than --request-timeout and --headers-timeout: the switched connection is not an HTTP request any more.
    await new Promise((r) => setTimeout(r, 1_200));
    ws.send(Buffer.from([9, 8, 7]));
    expect([...(await next(ws)).data]).toEqual([9, 8, 7]);
    ws.close(1000);
    expect((await closed(ws)).code).toBe(1000);
    expect(tlsUp.seen.at(-1)).toMatchObject({ url: "/secure", upgrade: true });
    expect(tlsUp.seen.at(-1)!.headers["x-forwarded-proto"]).toBe("https");
  });

  it("serves another upgrade on the TLS listener as the plain request it is", async () => {
    const { connect: tlsConnect } = await import("node:tls");
    const answer = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: "127.0.0.1", port: tlsGw.gateway.port, ca: ca.cert, ALPNProtocols: ["http/1.1"] }, () => s.write("GET /secure-plain HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: foo/1\r\nConnection: close\r\n\r\n"));
      let out = "";
      s.on("data", (c: Buffer) => (out += c.toString()));
      s.on("end", () => resolve(out));
      s.on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1.1 200/);
    expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4))).toMatchObject({ url: "/secure-plain", upgrade: null });
  });

  it("refuses an upstream whose certificate the Backend does not trust: JSON 503 before any switch", async () => {
    const res = await refusal(connect(`wss://127.0.0.1:${tlsGw.gateway.port}/untrusted`, { ca: ca.cert }));
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body).error.code).toBe("upstream_unavailable");
  });

  it("retries a handshake the upstream reset, under the route's retry stanza, then answers 503", async () => {
    const before = flaky.seen.length;
    const res = await refusal(connect(`wss://127.0.0.1:${tlsGw.gateway.port}/reset`, { ca: ca.cert }));
    expect(res.status).toBe(503);
    expect(flaky.seen.length - before).toBe(3);
  });

  it("cuts open WebSockets when the gateway shuts down, after the grace period", async () => {
    const gw2 = await startTestGateway({ "b.yaml": backendYaml("echo", [flaky.url]), "r.yaml": "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r }\nspec: { rules: [{ backendRefs: [{ name: echo }] }] }\n" });
    const ws = await connect(`ws://127.0.0.1:${gw2.gateway.port}/`);
    const started = Date.now();
    const closing = gw2.close();
    expect((await closed(ws)).code).toBe(1006);
    await closing;
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe("WebSocket handshakes are never hedged or mirrored", () => {
  it("a slow 101 under a hedge policy and a RequestMirror filter reaches one upstream once", async () => {
    const [a, b, mirror] = await Promise.all([startWsUpstream(), startWsUpstream(), startWsUpstream()]);
    const hgw = await startTestGateway({
      "b.yaml": [backendYaml("pair", [a.url, b.url]), backendYaml("mirror", [mirror.url])].join("---\n"),
      "r.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: hedged }
spec:
  rules:
    - filters: [{ type: RequestMirror, requestMirror: { backendRef: { name: mirror } } }]
      backendRefs: [{ name: pair }]
---
apiVersion: meshgate.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: hedge }
spec:
  targetRefs: [{ kind: HTTPRoute, name: hedged }]
  hedge: { delay: 20ms, maxHedges: 2, budget: { ratio: 1, minPerSecond: 100 } }
`,
    });
    try {
      // The same policies do hedge and mirror a plain GET: the test would notice if they did not apply.
      const plain = await fetch(`${hgw.url}/slow-plain`);
      expect(plain.status).toBe(200);
      await until(() => mirror.seen.length === 1);
      const ws = await connect(`${hgw.url.replace("http:", "ws:")}/slow`);
      ws.send("one");
      expect((await next(ws)).data.toString()).toBe("one");
      await new Promise((r) => setTimeout(r, 100));
      expect([...a.seen, ...b.seen].filter((s) => s.upgrade)).toHaveLength(1);
      expect(mirror.seen.filter((s) => s.upgrade)).toHaveLength(0);
      ws.close();
      await closed(ws);
    } finally {
      await hgw.close();
      await Promise.all([a.close(), b.close(), mirror.close()]);
    }
  });
});
