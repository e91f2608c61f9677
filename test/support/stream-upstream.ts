import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StreamUpstream {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * An upstream for streaming tests, driven over HTTP so workerd tests can use it too:
 * - GET /events?n=N&every=MS: server-sent events, one every MS ms, then the end.
 * - GET /lockstep?id=X&n=N: event 0 at once; event i+1 only after GET /ack?id=X&i=i arrived
 *   (a gateway that buffered would never deliver event 0, and the test would time out).
 * - POST /upload?id=X: reads the body; GET /received?id=X says how many bytes arrived so far.
 * - GET /closed?id=X: whether the client side of stream X went away (for /lockstep).
 */
export async function startStreamUpstream(): Promise<StreamUpstream> {
  const acks = new Map<string, () => void>();
  const received = new Map<string, number>();
  const closed = new Set<string>();
  const event = (res: ServerResponse, i: number) => res.write(`id: ${i}\nevent: tick\ndata: ${JSON.stringify({ i, at: Date.now() })}\n\n`);
  const sse = (res: ServerResponse) => res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const q = url.searchParams;
    const id = q.get("id") ?? "";
    const n = Number(q.get("n") ?? "10");
    if (url.pathname === "/events") {
      sse(res);
      let i = 0;
      const timer = setInterval(() => {
        if (i === n) {
          clearInterval(timer);
          return void res.end();
        }
        event(res, i++);
      }, Number(q.get("every") ?? "100"));
      res.on("close", () => clearInterval(timer));
      return;
    }
    if (url.pathname === "/lockstep") {
      sse(res);
      res.on("close", () => closed.add(id));
      const send = (i: number) => {
        if (res.destroyed) return;
        event(res, i);
        if (i + 1 === n) return void res.end();
        acks.set(`${id}/${i}`, () => send(i + 1));
      };
      return send(0);
    }
    if (url.pathname === "/ack") {
      const key = `${id}/${q.get("i")}`;
      const go = acks.get(key);
      acks.delete(key);
      go?.();
      return res.writeHead(go ? 204 : 404).end();
    }
    if (url.pathname === "/upload") {
      received.set(id, 0);
      req.on("data", (c: Buffer) => received.set(id, (received.get(id) ?? 0) + c.length));
      req.on("end", () => res.writeHead(200, { "content-type": "text/plain" }).end(String(received.get(id))));
      return;
    }
    if (url.pathname === "/received") return res.writeHead(200, { "content-type": "text/plain" }).end(String(received.get(id) ?? -1));
    if (url.pathname === "/closed") return res.writeHead(200, { "content-type": "text/plain" }).end(String(closed.has(id)));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
