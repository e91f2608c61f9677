import type { IncomingMessage, ServerResponse } from "node:http";
import type { GatewayRequest, GatewayResponse } from "../../http/exchange.js";
import { GatewayError, errorBody } from "../../http/gateway-error.js";
import { HeaderList } from "../../http/header-list.js";
import type { Pipeline } from "../../pipeline.js";
import { parseRequestHead, type RequestHead } from "../../http/request-target.js";
import { NodeRequestBody } from "./node-body.js";
import { NodeResponseBody, type ResponseSink } from "./node-response-body.js";
export type { ResponseSink } from "./node-response-body.js";
import { lazyPeerCertificate } from "./peer-certificate.js";
import { clientConnection } from "./client-connection.js";
import type { UpgradeProtocol } from "../../http/websocket.js";

export interface NodeHandlerOptions {
  readonly scheme: "http" | "https";
  readonly listenerPort: number;
  /**
   * The listener asks clients for certificates (`--client-ca`). Without it no connection has
   * one, and requests are never asked for theirs; with it each is read when a policy needs it.
   */
  readonly clientCertificates?: boolean;
  readonly now?: () => number;
}

/**
 * node:http request → GatewayRequest → pipeline → node:http response. Bodies stay Node
 * streams end to end: converting to Web streams is what costs most on this path.
 */
export function nodeHandler(pipeline: Pipeline, options: NodeHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const now = options.now ?? (() => performance.now());
  return function handleNodeRequest(req, res) {
    const conn = clientConnection(req.socket);
    conn.inFlight++;
    pipeline(gatewayRequest(req, options, now(), null), conn.signal).then(
      (response) => {
        conn.inFlight--;
        writeResponse(res, response);
      },
      () => {
        conn.inFlight--;
        writeError(res, new GatewayError("internal", "internal gateway error"));
      },
    );
  };
}

/**
 * A node:http request head as the pipeline's request. `upgrade`: a valid WebSocket handshake
 * that arrived through the server's 'upgrade' event (its bytes after the head are tunnel data,
 * never a body).
 */
export function gatewayRequest(req: IncomingMessage, options: NodeHandlerOptions, startTime: number, upgrade: UpgradeProtocol | null): GatewayRequest {
  const headers = new HeaderList(req.rawHeaders);
  let head: RequestHead;
  let malformed: GatewayError | null = null;
  try {
    head = parseRequestHead(req.url ?? "/", headers.getAll("host"));
    if (head.authority !== headers.get("host")) headers.set("host", head.authority);
  } catch (err) {
    // Answered by the pipeline, so the refusal is logged and counted like any other.
    malformed = err as GatewayError;
    head = NO_HEAD;
  }
  const length = headers.get("content-length");
  const hasBody = upgrade === null && (length !== undefined ? length !== "0" : headers.has("transfer-encoding"));
  const request: GatewayRequest = {
    method: req.method ?? "GET",
    scheme: options.scheme,
    host: head.host,
    hostPort: head.port,
    listenerPort: options.listenerPort,
    path: head.path,
    query: head.query,
    headers,
    // Chunked trailers come only when announced (RFC 9110 §6.6.2 asks senders for a Trailer field).
    body: hasBody ? new NodeRequestBody(req, null, length === undefined ? null : Number(length), length === undefined && headers.has("trailer") ? req : null) : null,
    clientAddress: req.socket.remoteAddress ?? "",
    // Set by hygiene; present from the start so the object keeps one shape through the stages.
    peerAddress: undefined,
    peerCertificate: null,
    startTime,
    malformed,
    upgrade,
  };
  return options.clientCertificates === true ? lazyPeerCertificate(request, req.socket) : request;
}

const NO_HEAD: RequestHead = { host: "", port: null, authority: "", path: "/", query: "" };

export function writeResponse(res: ResponseSink, response: GatewayResponse): void {
  if (res.destroyed) {
    if (response.body instanceof NodeResponseBody) response.body.cancel();
    return;
  }
  // Answered before the request body was read (413, 401, an early upstream answer): close rather
  // than read and discard whatever the client still sends.
  if (!res.req.complete) res.shouldKeepAlive = false;
  const body = response.body;
  if (body instanceof NodeResponseBody) {
    res.writeHead(response.status, response.headers.lines);
    body.pipeTo(res);
    return;
  }
  if (body === null) {
    res.writeHead(response.status, response.headers.lines);
    res.end();
    return;
  }
  const bytes = typeof body === "string" ? Buffer.from(body) : (body as Uint8Array);
  if (!response.headers.has("content-length")) response.headers.append("content-length", String(bytes.byteLength));
  res.writeHead(response.status, response.headers.lines);
  res.end(bytes);
}

export function writeError(res: ServerResponse, err: GatewayError): void {
  if (res.headersSent) return void res.destroy();
  const body = errorBody(err);
  res.writeHead(err.status, ["content-type", "application/json", "content-length", String(Buffer.byteLength(body))]);
  res.end(body);
}
