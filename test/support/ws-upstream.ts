import { createServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

export interface WsUpstream {
  readonly url: string;
  readonly port: number;
  /** Handshakes (and plain requests) that reached it: path and headers. */
  readonly seen: { readonly url: string; readonly headers: IncomingMessage["headers"]; readonly upgrade: boolean }[];
  /** Open server-side sockets. */
  readonly open: Set<WebSocket>;
  /** Close codes the server side received. */
  readonly closes: number[];
  close(): Promise<void>;
}

/**
 * A real WebSocket server on loopback (the `ws` package), plain or TLS. It echoes every message
 * with its type; "close-me" makes it close with 4001; "flood:N" sends N KiB back; "handshake?"
 * answers the handshake's URL and headers as JSON. Handshakes to
 * /refuse-400 and /plain-200 get those answers instead of a 101, /reset a TCP reset, /slow its
 * 101 after 200 ms. Plain
 * requests get a JSON echo of what they carried.
 */
export async function startWsUpstream(tls?: { cert: string; key: string }): Promise<WsUpstream> {
  const seen: WsUpstream["seen"][number][] = [];
  const open = new Set<WebSocket>();
  const closes: number[] = [];
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has("chat") ? "chat" : false) });
  const server: Server = tls ? createTlsServer({ cert: tls.cert, key: tls.key }) : createServer();
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("request", (req, res) => {
    seen.push({ url: req.url ?? "", headers: req.headers, upgrade: false });
    req.resume();
    const body = JSON.stringify({ url: req.url, upgrade: req.headers.upgrade ?? null, connection: req.headers.connection ?? null });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
  });
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    seen.push({ url: req.url ?? "", headers: req.headers, upgrade: true });
    socket.on("error", () => undefined);
    if (req.url?.startsWith("/refuse-400")) return void socket.end("HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nx-refused: yes\r\ncontent-length: 7\r\n\r\nrefused");
    if (req.url?.startsWith("/plain-200")) return void socket.end("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nplain");
    if (req.url?.startsWith("/reset")) return void socket.resetAndDestroy();
    const accept = () => wss.handleUpgrade(req, socket, head, (ws) => {
      open.add(ws);
      ws.on("close", (code) => {
        open.delete(ws);
        closes.push(code);
      });
      ws.on("message", (data, isBinary) => {
        const text = isBinary ? "" : data.toString();
        if (text === "close-me") return ws.close(4001, "asked to");
        if (text === "handshake?") return ws.send(JSON.stringify({ url: req.url, headers: req.headers }));
        const flood = /^flood:(\d+)$/.exec(text);
        if (flood) return ws.send(Buffer.alloc(Number(flood[1]) * 1024, 7));
        ws.send(data, { binary: isBinary });
      });
    });
    if (req.url?.startsWith("/slow")) setTimeout(accept, 200);
    else accept();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    seen,
    open,
    closes,
    close: () =>
      new Promise((r) => {
        for (const ws of open) ws.terminate();
        for (const s of sockets) s.destroy();
        wss.close();
        server.close(() => r());
      }),
  };
}
