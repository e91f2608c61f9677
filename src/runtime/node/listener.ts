import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from "node:tls";
import type { Server as HttpServer } from "node:http";
import type { Http2Server } from "node:http2";
import type { ListenerTls } from "./listener-tls.js";

/** The HTTP/2 connection preface (RFC 9113 §3.4): what an h2c client with prior knowledge sends first. */
const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export interface FrontOptions {
  /** Serves HTTP/1.1 connections; never listens itself. */
  readonly http1: HttpServer;
  /** Serves HTTP/2 connections; never listens itself. */
  readonly http2: Http2Server;
  /** Bounds the preface peek and the TLS handshake: a silent client is as slow as one that never finishes its headers. */
  readonly headersTimeoutMs: number;
  /** A client that said nothing within the headers timeout: write it its answer and close. */
  readonly onSilent: (socket: Socket) => void;
  readonly tls?: ListenerTls;
}

/**
 * The one listening socket of a data-plane port, handing each connection to the HTTP/1.1 or the
 * HTTP/2 server. Cleartext: the first bytes decide (the h2c preface, else HTTP/1.1); the peek
 * ends at the first byte that is not the preface's, so HTTP/1.1 clients pay nothing. TLS: ALPN
 * decides (h2, else http/1.1), with the same client certificate settings for both.
 */
export function createFrontServer(options: FrontOptions): NetServer | TlsServer {
  const { http1, http2 } = options;
  // Timers the HTTP/1.1 server runs for its connections (headers, request and keep-alive
  // timeouts) start when it listens; it never does, so it is told it did.
  http1.emit("listening");
  if (options.tls === undefined) return createNetServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => peek(socket, options));
  const tls = options.tls;
  const server = createTlsServer({
    cert: tls.cert,
    key: tls.key,
    ALPNProtocols: ["h2", "http/1.1"],
    // As node:http's own servers: the HTTP/1.1 server (and a WebSocket tunnel) decides what a half-closed connection means.
    allowHalfOpen: true,
    handshakeTimeout: options.headersTimeoutMs,
    ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: tls.clientAuth === "strict" } : {}),
  });
  server.on("secureConnection", (socket: TLSSocket) => {
    if (socket.alpnProtocol === "h2") http2.emit("connection", socket);
    else http1.emit("connection", socket);
  });
  // A failed handshake (timeout, bad ClientHello, refused certificate) has no HTTP to answer in.
  server.on("tlsClientError", (_err, socket) => socket.destroy());
  return server;
}

function peek(socket: Socket, options: FrontOptions): void {
  let seen: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => {
    done();
    options.onSilent(socket);
  }, options.headersTimeoutMs);
  const done = () => {
    clearTimeout(timer);
    socket.off("data", onData);
    socket.off("error", onError);
    socket.off("close", onClose);
  };
  const hand = (to: "http1" | "http2") => {
    done();
    if (to === "http2") {
      // The HTTP/2 session reads what is already buffered on the socket before its handle.
      socket.pause();
      socket.unshift(seen);
      options.http2.emit("connection", socket);
    } else {
      // node:http reads the socket's handle directly from now on; the bytes already read are
      // given to its parser as the data event they were.
      options.http1.emit("connection", socket);
      socket.emit("data", seen);
    }
  };
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, PREFACE.length);
    if (seen.compare(PREFACE, 0, n, 0, n) !== 0) return hand("http1");
    if (seen.length >= PREFACE.length) hand("http2");
  };
  const onError = () => {
    done();
    socket.destroy();
  };
  const onClose = () => done();
  socket.on("data", onData);
  socket.on("error", onError);
  socket.on("close", onClose);
  socket.resume();
}
