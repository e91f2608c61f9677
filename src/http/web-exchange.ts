import { WebRequestBody, WebResponseBody } from "./web-body.js";
import { hostAuthority } from "./request-target.js";
import { GatewayError } from "./gateway-error.js";
import { isResponseBody, type GatewayRequest, type GatewayResponse } from "./exchange.js";
import { FetchedHeaderList, asWebHeaders } from "./fetched-headers.js";
import type { PeerCertificate } from "./principal.js";
import { isWebSocketHandshake } from "./websocket.js";

export interface WebRequestInfo {
  readonly clientAddress: string;
  readonly startTime: number;
  readonly peerCertificate?: PeerCertificate | null;
  /**
   * Reads the certificate when a stage first asks (instead of `peerCertificate`): on Workers
   * `request.cf` is decoded on first access, which most requests never need.
   */
  readonly peerCertificateOf?: ((request: Request) => PeerCertificate | null) | undefined;
}

/** A Web Request (Workers, Hono's app.request) into the pipeline's request model. */
export function fromWebRequest(request: Request, info: WebRequestInfo): GatewayRequest {
  const target = request.url;
  const url = new URL(target);
  const lines: string[] = [];
  const source = request.headers;
  source.forEach((value, name) => lines.push(name, value));
  const headers = new FetchedHeaderList(lines, source);
  const authority = headers.get("host") ?? url.host;
  if (!headers.has("host")) headers.append("host", authority);
  let host = "";
  let port: number | null = null;
  let malformed: GatewayError | null = null;
  try {
    // The runtime's URL parser has taken the target apart already; a fragment left in it, or a
    // Host header (two of them arrive comma-joined) that is not a plain authority, is refused.
    if (target.includes("#")) throw new GatewayError("bad_request", "fragment (#) in request target");
    ({ host, port } = hostAuthority(authority));
  } catch (err) {
    malformed = err as GatewayError;
  }
  const length = headers.get("content-length");
  const scheme = url.protocol === "https:" ? "https" : "http";
  const read = info.peerCertificateOf;
  let peer = info.peerCertificate;
  return {
    method: request.method,
    scheme,
    host,
    hostPort: port,
    listenerPort: url.port === "" ? (scheme === "https" ? 443 : 80) : Number(url.port),
    path: url.pathname,
    query: url.search,
    headers,
    body: request.body === null ? null : new WebRequestBody(request.body, null, length === undefined ? null : Number(length)),
    clientAddress: info.clientAddress,
    get peerCertificate() {
      if (peer === undefined) peer = read === undefined ? null : read(request);
      return peer;
    },
    startTime: info.startTime,
    malformed,
    upgrade: isWebSocketHandshake(request.method, headers) ? "websocket" : null,
  };
}

/** The pipeline's answer as a Web Response; upstream bodies stream through untouched. */
export function toWebResponse(response: GatewayResponse): Response {
  const headers = asWebHeaders(response.headers);
  const body = response.body;
  const nullBody = response.status === 204 || response.status === 304 || (response.status >= 100 && response.status < 200);
  let init: BodyInit | null = null;
  if (!nullBody && body !== null) {
    if (isResponseBody(body)) init = body instanceof WebResponseBody ? body.stream : null;
    else init = body as string | Uint8Array<ArrayBuffer>;
  }
  // A switched WebSocket (Workers): the platform completes the client's handshake itself.
  if (response.status === 101 && body instanceof WebResponseBody && body.webSocket !== null) return new Response(null, { status: 101, headers, webSocket: body.webSocket } as ResponseInit);
  return new Response(init, { status: response.status, headers });
}
