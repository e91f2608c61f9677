import { createSecureServer, createServer, type Settings, type Http2SecureServer, type Http2Server, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";

export interface H2Seen {
  readonly httpVersion: string;
  readonly alpn: string | null;
  readonly method: string;
  readonly url: string;
  readonly authority: string | undefined;
  readonly headers: Http2ServerRequest["headers"];
  readonly body: string;
  /** Trailer fields the client sent after the body. */
  readonly trailers: Http2ServerRequest["trailers"];
}

export interface H2Upstream {
  readonly url: string;
  readonly port: number;
  readonly seen: H2Seen[];
  /** Sessions the server accepted (to check that streams share one connection). */
  sessions: number;
  /** Sessions open now. */
  readonly open: number;
  respond: (req: Http2ServerRequest, res: Http2ServerResponse, body: string) => void;
  close(): Promise<void>;
}

/**
 * An HTTP/2 echo server on loopback: cleartext h2c (prior knowledge only), or TLS with ALPN h2 and
 * http/1.1 when given a certificate. It answers JSON naming the protocol it was reached with.
 */
export async function startH2Upstream(name: string, tls?: { cert: string; key: string }, settings?: Settings): Promise<H2Upstream> {
  const seen: H2Seen[] = [];
  const upstream: H2Upstream = {
    url: "",
    port: 0,
    seen,
    sessions: 0,
    get open() {
      return sessions.size;
    },
    respond: (req, res, body) => {
      res.writeHead(200, { "content-type": "application/json", "x-upstream": name });
      res.end(JSON.stringify({ upstream: name, httpVersion: req.httpVersion, alpn: alpnOf(req), method: req.method, url: req.url, host: req.headers[":authority"] ?? req.headers.host, body }));
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
  const handler = (req: Http2ServerRequest, res: Http2ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({ httpVersion: req.httpVersion, alpn: alpnOf(req), method: req.method, url: req.url, authority: req.headers[":authority"] ?? req.headers.host, headers: req.headers, body, trailers: req.trailers });
      upstream.respond(req, res, body);
    });
  };
  const server: Http2Server | Http2SecureServer = tls ? createSecureServer({ ...tls, allowHTTP1: true, ...(settings ? { settings } : {}) }, handler) : createServer(settings ? { settings } : {}, handler);
  const sessions = new Set<{ destroy(): void }>();
  server.on("session", (s) => {
    upstream.sessions++;
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  // HTTP/1.1 over TLS (allowHTTP1) does not make a session; its sockets are closed by server.close.
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(upstream, { port, url: `${tls ? "https" : "http"}://127.0.0.1:${port}` });
}

function alpnOf(req: Http2ServerRequest): string | null {
  const socket = req.socket as Partial<TLSSocket>;
  return typeof socket.alpnProtocol === "string" ? socket.alpnProtocol : null;
}
