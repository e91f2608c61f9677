import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest, type RequestOptions } from "node:https";
import type { Socket } from "node:net";
import { HeaderList } from "../../http/header-list.js";
import { onAbort } from "../../http/abort-link.js";
import { DEFAULT_CONNECTION, TransportError, type UpstreamRequest, type UpstreamResponse } from "../../upstream/transport.js";
import { NodeResponseBody } from "./node-response-body.js";
import { NodeTunnel } from "./tunnel.js";
import { CONNECT_CODES, connectOptions } from "./undici-transport.js";

/** Headers of one hop; the runtime writes its own Connection/Upgrade on the 101 it relays. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);

/**
 * Sends a WebSocket handshake upstream on a connection of its own (HTTP/1.1, never pooled: it
 * becomes the tunnel). A 101 resolves with a NodeTunnel body; any other answer (the upstream
 * refused: 200, 400, 426...) resolves as an ordinary streamed response. `secure`: TLS with the
 * Backend's settings (https endpoints, appProtocol kubernetes.io/wss), ALPN http/1.1 only.
 */
export function sendUpgrade(request: UpstreamRequest, secure: boolean): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(request.origin);
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    const port = Number(url.port || (secure ? 443 : 80));
    let tls: ReturnType<typeof connectOptions> | null = null;
    try {
      tls = secure ? (request.tls ? connectOptions(request.tls) : { rejectUnauthorized: true }) : null;
    } catch (err) {
      return reject(new TransportError("connect_failed", (err as Error).message, { cause: err }));
    }
    let settled = false;
    let connected = false;
    let failure: unknown = null;
    const timers: ReturnType<typeof setTimeout>[] = [];
    const done = () => {
      settled = true;
      for (const t of timers) clearTimeout(t);
      leave();
    };
    const fail = (err: unknown) => {
      failure ??= err;
      req.destroy();
    };
    const options = { host, port, method: request.method, path: request.path, headers: request.headers.lines, agent: false, setHost: false } as const;
    const req: ClientRequest = tls ? httpsRequest({ ...options, ...tls, ALPNProtocols: ["http/1.1"] } as RequestOptions) : httpRequest(options);
    const leave = onAbort(request.signal, (reason) => fail(reason));
    request.cancelHook?.((reason) => fail(reason));
    const connectMs = request.connection?.connectTimeoutMs ?? DEFAULT_CONNECTION.connectTimeoutMs;
    if (connectMs > 0) timers.push(setTimeout(() => connected || fail(new TransportError("connect_failed", `no connection to ${request.origin} within ${connectMs} ms`)), connectMs));
    const headersMs = request.headersTimeoutMs ?? 0;
    if (headersMs > 0) timers.push(setTimeout(() => fail(new TransportError("timeout", `no response headers within ${headersMs} ms`)), headersMs));
    req.once("socket", (socket: Socket) => {
      socket.once(tls ? "secureConnect" : "connect", () => (connected = true));
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (settled) return;
      done();
      reject(failure ?? toTransportError(err, connected));
    });
    req.on("upgrade", (res: IncomingMessage, socket: Socket, head: Buffer) => {
      done();
      resolve({ status: 101, headers: headersOf(res), body: new NodeTunnel(socket, head, request.bodyIdleTimeoutMs ?? 0) });
    });
    req.on("response", (res: IncomingMessage) => {
      done();
      const body = new NodeResponseBody(() => res.resume(), (reason) => res.destroy(reason instanceof Error ? reason : undefined));
      res.on("data", (chunk: Buffer) => {
        if (!body.push(chunk)) res.pause();
      });
      res.on("end", () => body.end());
      res.on("error", (err) => body.fail(err));
      res.on("aborted", () => body.fail(new TransportError("reset", "upstream closed the connection mid-body")));
      resolve({ status: res.statusCode ?? 502, headers: headersOf(res), body });
    });
    req.end();
  });
}

function headersOf(res: IncomingMessage): HeaderList {
  const lines: string[] = [];
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) lines.push(raw[i]!, raw[i + 1]!);
  return new HeaderList(lines);
}

function toTransportError(err: NodeJS.ErrnoException, connected: boolean): TransportError {
  const code = err.code ?? "";
  if (!connected || CONNECT_CODES.has(code)) return new TransportError("connect_failed", `${code || err.name}: ${err.message}`, { cause: err });
  if (code.startsWith("HPE_")) return new TransportError("bad_response", err.message, { cause: err });
  return new TransportError("reset", `${code || err.name}: ${err.message}`, { cause: err });
}
