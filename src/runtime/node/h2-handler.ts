import type { Http2ServerRequest, Http2ServerResponse, OutgoingHttpHeaders } from "node:http2";
import type { Socket } from "node:net";
import type { GatewayRequest, GatewayResponse } from "../../http/exchange.js";
import { GatewayError } from "../../http/gateway-error.js";
import { HeaderList } from "../../http/header-list.js";
import type { Pipeline } from "../../pipeline.js";
import { parseRequestHead, type RequestHead } from "../../http/request-target.js";
import { NodeRequestBody } from "./node-body.js";
import { lazyPeerCertificate } from "./peer-certificate.js";
import { writeResponse, type NodeHandlerOptions, type ResponseSink } from "./node-handler.js";

/**
 * An HTTP/2 stream → GatewayRequest → pipeline → the stream's response: the same request path
 * as HTTP/1.1 (node-handler.ts), with the pseudo-headers read into the request line and Host.
 * Each stream has its own abort signal: a reset stream cancels its request alone.
 */
export function h2Handler(pipeline: Pipeline, options: NodeHandlerOptions & { readonly maxHeaderListSize: number }): (req: Http2ServerRequest, res: Http2ServerResponse) => void {
  const now = options.now ?? (() => performance.now());
  const maxHeaderList = options.maxHeaderListSize;
  return function handleH2Request(req, res) {
    const startTime = now();
    const raw = req.rawHeaders;
    const lines: string[] = [];
    let authority: string | undefined;
    // SETTINGS_MAX_HEADER_LIST_SIZE is advisory to the peer; the bound is kept here (RFC 9113
    // §6.5.2: name + value + 32 per field), answered 431 as HTTP/1.1's header limit is.
    let size = 0;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      size += name.length + raw[i + 1]!.length + 32;
      if (name.charCodeAt(0) === 58 /* ":" */) {
        if (name === ":authority") authority = raw[i + 1];
        continue;
      }
      lines.push(name, raw[i + 1]!);
    }
    const headers = new HeaderList(lines);
    // RFC 9113 §8.3.1: :authority stands for Host; a client may send Host instead.
    if (authority !== undefined && !headers.has("host")) headers.append("host", authority);
    let head: RequestHead = NO_HEAD;
    let malformed: GatewayError | null = size > maxHeaderList ? new GatewayError("headers_too_large", "request headers too large") : null;
    if (malformed === null) try {
      head = parseRequestHead(req.url || "/", headers.getAll("host"));
      if (head.authority !== headers.get("host")) headers.set("host", head.authority);
    } catch (err) {
      malformed = err as GatewayError;
      head = NO_HEAD;
    }
    const length = headers.get("content-length");
    // HTTP/2 frames the body itself: a stream not ended with its headers has one.
    const hasBody = !req.stream.readableEnded && !(req.stream as { endAfterHeaders?: boolean }).endAfterHeaders;
    const socket = req.socket as Socket;
    const controller = new AbortController();
    // Only a stream closed before its answer was written is a cancellation (no error built per request).
    const onClose = () => {
      if (!res.writableEnded) controller.abort(new GatewayError("bad_request", "client reset the stream"));
    };
    req.stream.once("close", onClose);
    const gwReq: GatewayRequest = {
      method: req.method,
      scheme: options.scheme,
      host: head.host,
      hostPort: head.port,
      listenerPort: options.listenerPort,
      path: head.path,
      query: head.query,
      headers,
      body: hasBody ? new NodeRequestBody(req, null, length === undefined ? null : Number(length), mayHaveTrailers(headers) ? req : null) : null,
      clientAddress: socket.remoteAddress ?? "",
      peerCertificate: null,
      startTime,
      malformed,
      protocol: "h2",
    };
    if (options.clientCertificates === true) lazyPeerCertificate(gwReq, socket);
    pipeline(gwReq, controller.signal).then(
      (response) => writeH2Response(res, response),
      () => {
        if (!res.headersSent && !res.stream.destroyed) res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "internal", message: "internal gateway error" } }));
      },
    );
  };
}

/**
 * An answer without a body goes out as one HEADERS frame with END_STREAM: what gRPC calls
 * trailers-only, the only way a grpc-status in the response headers is read as the call's status.
 */
function writeH2Response(res: Http2ServerResponse, response: GatewayResponse): void {
  const body = response.body;
  // An upstream's own trailers-only gRPC answer (grpc-status in its headers) has an empty body to come.
  const empty = body === null || (typeof body === "string" && body.length === 0) || (body instanceof Uint8Array && body.byteLength === 0) || response.headers.has("grpc-status");
  if (!empty || res.headersSent || res.stream.destroyed || res.stream.closed) return writeResponse(res as unknown as ResponseSink, response);
  const headers: OutgoingHttpHeaders = { ":status": response.status };
  for (const [name, value] of response.headers.entries()) {
    const key = name.toLowerCase();
    if (CONNECTION_SPECIFIC.has(key)) continue;
    const prior = headers[key];
    headers[key] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : key === "set-cookie" ? [String(prior), value] : `${String(prior)}, ${value}`;
  }
  res.stream.respond(headers, { endStream: true });
}

/** HTTP/2 never announces trailers; gRPC calls are where clients send them, and a Trailer field says so elsewhere. */
function mayHaveTrailers(headers: HeaderList): boolean {
  return headers.has("trailer") || (headers.get("content-type")?.startsWith("application/grpc") ?? false);
}

/** Fields HTTP/2 forbids (RFC 9113 §8.2.2); node:http2 throws on them. */
const CONNECTION_SPECIFIC = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]);

const NO_HEAD: RequestHead = { host: "", port: null, authority: "", path: "/", query: "" };
