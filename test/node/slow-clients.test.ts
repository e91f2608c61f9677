import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, prefixRouteYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { closedBy, openSocket, rawExchange } from "../support/raw-socket.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";
import { createCa } from "../support/pki.js";

// Slowloris and friends: clients that hold connections open without finishing a request must be
// cut off on bounded timers, and must never keep other clients from being served.
let up: TestUpstream;
let gw: TestGateway;
let small: TestGateway;
let tls: TestGateway;
const HEADERS_MS = 600;

beforeAll(async () => {
  up = await startUpstream("slow-test");
  const files = { "b.yaml": backendYaml("web", [up.url]), "r.yaml": prefixRouteYaml("web", "/", "web") };
  gw = await startTestGateway(files, { connections: { headersTimeoutMs: HEADERS_MS, requestTimeoutMs: 1_500, keepAliveTimeoutMs: 800, maxConnections: 200 } });
  small = await startTestGateway(files, { connections: { headersTimeoutMs: HEADERS_MS, maxConnections: 3 } });
  const server = await (await createCa("slow-clients CA")).issue({ subject: "CN=gateway", ips: ["127.0.0.1"], server: true });
  tls = await startTestGateway(files, { tls: { cert: server.cert, key: server.key }, connections: { headersTimeoutMs: HEADERS_MS } });
});

afterAll(async () => {
  await Promise.all([gw?.close(), small?.close(), tls?.close()]);
  await up?.close();
});

/** Writes `text` one byte every `everyMs` until the server closes the socket. */
function trickle(socket: Socket, text: string, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length) return clearInterval(timer);
    socket.write(text[i++]!);
  }, everyMs);
  socket.once("close", () => clearInterval(timer));
}

const ok = async (port: number) => {
  const res = await rawExchange(port, "GET /x HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n");
  return res.status;
};

describe("slow clients", () => {
  it("header tricklers get 408 within the headers timeout while everyone else is served", async () => {
    const sockets = await Promise.all(Array.from({ length: 20 }, () => openSocket(gw.gateway.port)));
    const started = performance.now();
    const closed = sockets.map((s) => closedBy(s).then((raw) => ({ raw, ms: performance.now() - started })));
    for (const s of sockets) trickle(s, "GET /x HTTP/1.1\r\nHost: a.test\r\nX-Slow: " + "a".repeat(1000), 50);
    // While they trickle, normal clients get answers at once.
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      expect(await ok(gw.gateway.port)).toBe(200);
      expect(performance.now() - t).toBeLessThan(HEADERS_MS);
    }
    const results = await Promise.all(closed);
    for (const r of results) {
      expect(r.raw).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(r.raw).toContain('"code":"client_timeout"');
      // headers timeout plus at most one connection check (a quarter of it) and scheduling slack
      expect(r.ms).toBeLessThan(HEADERS_MS * 3);
    }
  });

  it("a silent connection is closed after the headers timeout", async () => {
    const socket = await openSocket(gw.gateway.port);
    const t = performance.now();
    const raw = await closedBy(socket);
    expect(raw).toMatch(/^HTTP\/1\.1 408/);
    expect(performance.now() - t).toBeLessThan(HEADERS_MS * 3);
  });

  it("a TLS client that never finishes its handshake is closed after the headers timeout", async () => {
    const socket = await openSocket(tls.gateway.port);
    const t = performance.now();
    socket.write(Buffer.from([0x16, 0x03, 0x01])); // the start of a ClientHello, and nothing more
    await closedBy(socket);
    expect(performance.now() - t).toBeLessThan(HEADERS_MS * 3);
  });

  it("a body trickled slower than the request timeout is cut off", async () => {
    const socket = await openSocket(gw.gateway.port);
    const t = performance.now();
    const closed = closedBy(socket);
    socket.write("POST /x HTTP/1.1\r\nHost: a.test\r\nContent-Length: 1000\r\n\r\n");
    trickle(socket, "b".repeat(1000), 50);
    await closed;
    const ms = performance.now() - t;
    expect(ms).toBeGreaterThan(1_000);
    expect(ms).toBeLessThan(4_000);
    expect(await ok(gw.gateway.port)).toBe(200);
  });

  it("an idle keep-alive connection is closed after the keep-alive timeout", async () => {
    const socket = await openSocket(gw.gateway.port);
    const closed = closedBy(socket);
    socket.write("GET /x HTTP/1.1\r\nHost: a.test\r\n\r\n");
    const t = performance.now();
    const raw = await closed;
    expect(raw).toMatch(/^HTTP\/1\.1 200/);
    expect(performance.now() - t).toBeLessThan(4_000);
  });

  it("beyond --max-connections new connections are closed at once; room comes back when old ones go", async () => {
    const held = await Promise.all([0, 1, 2].map(() => openSocket(small.gateway.port)));
    const gone = held.map((s) => closedBy(s));
    const extra = await openSocket(small.gateway.port);
    const t = performance.now();
    expect(await closedBy(extra)).toBe("");
    expect(performance.now() - t).toBeLessThan(HEADERS_MS);
    await Promise.all(gone);
    expect(await ok(small.gateway.port)).toBe(200);
    const render = await (await fetch(`${small.adminUrl}/metrics`)).text();
    expect(render).toMatch(/meshgate_downstream_connections_dropped_total [1-9]/);
  });
});
