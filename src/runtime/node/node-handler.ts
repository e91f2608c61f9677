import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { GatewayRequest, GatewayResponse } from "../../pipeline/exchange.js";
import { GatewayError, errorBody } from "../../pipeline/gateway-error.js";
import { HeaderList } from "../../pipeline/header-list.js";
import type { Pipeline } from "../../pipeline/pipeline.js";
import { normalizeHost } from "../../policy/compile/hostnames.js";
import { NodeRequestBody } from "./node-body.js";
import { NodeResponseBody } from "./node-response-body.js";
import { peerCertificate } from "./peer-certificate.js";

export interface NodeHandlerOptions {
  readonly scheme: "http" | "https";
  readonly listenerPort: number;
  readonly now?: () => number;
}

/**
 * node:http request → GatewayRequest → pipeline → node:http response. Bodies stay Node
 * streams end to end: converting to Web streams is what costs most on this path.
 */
export function nodeHandler(pipeline: Pipeline, options: NodeHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const now = options.now ?? (() => performance.now());
  return function handleNodeRequest(req, res) {
    const startTime = now();
    const headers = new HeaderList(req.rawHeaders);
    let target = req.url ?? "/";
    let authority = headers.get("host") ?? "";
    if (!target.startsWith("/")) {
      // absolute-form (a client configured to use us as a proxy) or asterisk-form
      const parsed = absoluteTarget(target);
      if (parsed === null) return writeError(res, new GatewayError("bad_request", "request target must be a path or an absolute http(s) URL"));
      authority = parsed.authority;
      target = parsed.target;
      headers.set("host", authority);
    }
    const q = target.indexOf("?");
    const { host, port } = normalizeHost(authority);
    const length = headers.get("content-length");
    const hasBody = length !== undefined ? length !== "0" : headers.has("transfer-encoding");
    const gwReq: GatewayRequest = {
      method: req.method ?? "GET",
      scheme: options.scheme,
      host,
      hostPort: port,
      listenerPort: options.listenerPort,
      path: q === -1 ? target : target.slice(0, q),
      query: q === -1 ? "" : target.slice(q),
      headers,
      body: hasBody ? new NodeRequestBody(req, null, length === undefined ? null : Number(length)) : null,
      clientAddress: req.socket.remoteAddress ?? "",
      peerCertificate: options.scheme === "https" ? peerCertificate(req.socket) : null,
      startTime,
    };
    pipeline(gwReq, connectionSignal(req.socket)).then(
      (response) => writeResponse(res, response),
      () => writeError(res, new GatewayError("internal", "internal gateway error")),
    );
  };
}

export function writeResponse(res: ServerResponse, response: GatewayResponse): void {
  if (res.destroyed) {
    if (response.body instanceof NodeResponseBody) response.body.cancel();
    return;
  }
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

const CONNECTION_SIGNAL = Symbol("meshgate.connectionSignal");
type SignalledSocket = Socket & { [CONNECTION_SIGNAL]?: AbortSignal };

/**
 * One abort signal per client connection, fired when it closes: an HTTP/1.1 connection carries
 * one request at a time, and a controller per connection instead of per request took 5% off
 * the hot path.
 */
function connectionSignal(socket: SignalledSocket): AbortSignal {
  let signal = socket[CONNECTION_SIGNAL];
  if (signal === undefined) {
    const controller = new AbortController();
    signal = socket[CONNECTION_SIGNAL] = controller.signal;
    socket.once("close", () => controller.abort(new GatewayError("bad_request", "client closed the connection")));
  }
  return signal;
}

function absoluteTarget(target: string): { authority: string; target: string } | null {
  try {
    const url = new URL(target);
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    return { authority: url.host, target: `${url.pathname}${url.search}` };
  } catch {
    return null;
  }
}
