import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { IncomingMessage } from "node:http";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { startWsUpstream, type WsUpstream } from "../support/ws-upstream.js";

let up: WsUpstream;
let gw: TestGateway;

/** Opens a WebSocket; rejects with the HTTP status when the answer is not a 101 (or the connection is cut). */
function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res: IncomingMessage) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body })));
    });
    ws.once("error", reject);
  });
}

const closed = (ws: WebSocket) => new Promise<void>((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve() : ws.once("close", () => resolve())));

beforeAll(async () => {
  up = await startWsUpstream();
  gw = await startTestGateway(
    {
      "b.yaml": `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: one }
spec:
  appProtocol: kubernetes.io/ws
  endpoints: [{ url: "${up.url}" }]
  connection: { maxConnections: 1 }
---
apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: many }
spec:
  appProtocol: kubernetes.io/ws
  endpoints: [{ url: "${up.url}" }]
`,
      "r.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ws }
spec:
  rules:
    - matches: [{ path: { type: PathPrefix, value: /one } }]
      backendRefs: [{ name: one, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /many } }]
      backendRefs: [{ name: many, port: 80 }]
`,
    },
    { connections: { maxConnections: 3 } },
  );
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
});

const url = (path: string) => gw.url.replace("http:", "ws:") + path;

describe("WebSocket connections and connection limits", () => {
  it("an open tunnel counts against the Backend's connection.maxConnections: the next handshake is 503 backend_overloaded until it closes", async () => {
    const first = await open(url("/one"));
    const refused = (await open(url("/one")).then(
      (ws) => (ws.terminate(), null),
      (err: { status?: number; body?: string }) => err,
    ))!;
    expect(refused.status).toBe(503);
    expect((JSON.parse(refused.body!) as { error: { code: string } }).error.code).toBe("backend_overloaded");
    first.close();
    await closed(first);
    // The slot comes back when the tunnel closes.
    let again: WebSocket | null = null;
    for (let i = 0; i < 50 && again === null; i++) again = await open(url("/one")).catch(() => new Promise<null>((r) => setTimeout(() => r(null), 20)));
    expect(again).not.toBeNull();
    again!.close();
    await closed(again!);
  });

  it("open WebSockets count in the listener's --max-connections: past it a new client connection is closed at once", async () => {
    const sockets = await Promise.all([open(url("/many")), open(url("/many")), open(url("/many"))]);
    await expect(open(url("/many"))).rejects.toThrow();
    const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(Number(/meshgate_downstream_connections_dropped_total (\d+)/.exec(text)?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
    sockets[0]!.close();
    await closed(sockets[0]!);
    let fourth: WebSocket | null = null;
    for (let i = 0; i < 50 && fourth === null; i++) fourth = await open(url("/many")).catch(() => new Promise<null>((r) => setTimeout(() => r(null), 20)));
    expect(fourth).not.toBeNull();
    for (const ws of [...sockets.slice(1), fourth!]) ws.close();
    await Promise.all([...sockets.slice(1), fourth!].map(closed));
  });
});
