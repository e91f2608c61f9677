import type { RequestBody } from "../http/exchange.js";
import { HeaderList } from "../http/header-list.js";
import { FetchedHeaderList, asWebHeaders } from "../http/fetched-headers.js";
import { GatewayError } from "../http/gateway-error.js";
import { TransportError, type Transport, type UpstreamRequest, type UpstreamResponse } from "./transport.js";
import { WebRequestBody, WebResponseBody } from "../http/web-body.js";
import { readAtMost } from "../http/read-at-most.js";
import { BINDING_ORIGIN } from "./compile-backend.js";

const CONNECT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);
/** Handshake headers of the upstream's 101 that the platform writes anew for the client's handshake. */
const HANDSHAKE = new Set(["sec-websocket-accept", "sec-websocket-extensions"]);

/**
 * The Web-standard transport: global fetch with manual redirects and streaming bodies.
 * Native on Workers; on Node it works but costs more than the undici transport.
 * Platforms that forbid overriding Host (Workers) send the upstream's own host.
 */
export class FetchTransport implements Transport {
  // Wrapped: Workers throw "Illegal invocation" when fetch is called detached from globalThis.
  constructor(
    private readonly fetchImpl: typeof fetch = (input, init) => fetch(input, init),
    /** Named fetchers (Workers `mtls_certificates` bindings) a Backend's tls.clientCertificate.binding selects. */
    private readonly bindings: (name: string) => { fetch: typeof fetch } | undefined = () => undefined,
  ) {}

  /** Upstream mTLS on Workers: the request goes out through the certificate binding's own fetch. */
  private fetcherFor(request: UpstreamRequest): typeof fetch {
    if (request.origin.startsWith(BINDING_ORIGIN)) {
      // A service binding endpoint: the bound Worker is called directly, no network in between.
      const name = request.origin.slice(BINDING_ORIGIN.length);
      const service = this.bindings(name);
      if (service === undefined) throw new TransportError("connect_failed", `no service binding named ${name} in this Worker`);
      return (input, init) => service.fetch(input, init);
    }
    const cc = request.tls?.clientCertificate;
    if (cc === undefined) return this.fetchImpl;
    if (!("binding" in cc)) throw new TransportError("connect_failed", "this runtime presents client certificates only through an mtls_certificates binding (tls.clientCertificate.binding)");
    const binding = this.bindings(cc.binding);
    if (binding === undefined) throw new TransportError("connect_failed", `no mtls_certificates binding named ${cc.binding} in this Worker`);
    return (input, init) => binding.fetch(input, init);
  }

  async send(request: UpstreamRequest): Promise<UpstreamResponse> {
    let headers: Headers;
    try {
      headers = asWebHeaders(request.headers);
    } catch (err) {
      // Headers refuses the name or value: our doing, not the upstream's.
      throw new GatewayError("request_not_forwardable", `the request cannot be forwarded: ${(err as Error).message}`, undefined, { cause: err });
    }
    const body = request.body as WebRequestBody | null;
    let signal = request.signal;
    let cancelled: { reason: unknown } | null = null;
    const limiter = body?.limiter ?? null;
    const headersTimeout = request.headersTimeoutMs ?? 0;
    let clearHeadersTimer: ReturnType<typeof setTimeout> | null = null;
    if (request.cancelHook || limiter || headersTimeout > 0) {
      const own = new AbortController();
      const cancel = (reason: unknown) => {
        cancelled ??= { reason };
        own.abort(reason);
      };
      request.cancelHook?.(cancel);
      if (limiter) {
        if (limiter.overflow) throw limiter.overflow;
        limiter.onOverflow = cancel;
      }
      // fetch has no headers timeout of its own: a hung upstream must still be noticed.
      if (headersTimeout > 0) clearHeadersTimer = setTimeout(() => cancel(new TransportError("timeout", `no response headers within ${headersTimeout} ms`)), headersTimeout);
      // The request's signal aborts ours (AbortSignal.any does the same at ~10 µs a call in workerd).
      const parent = request.signal;
      if (parent?.aborted === true) own.abort(parent.reason);
      else parent?.addEventListener("abort", () => own.abort(parent.reason), { once: true });
      signal = own.signal;
    }
    const fetcher = this.fetcherFor(request);
    let response: Response;
    try {
      const init: RequestInit & { duplex: "half" } = {
        method: request.method,
        headers,
        body: body === null ? null : ((body.bytes ?? body.stream) as BodyInit | null),
        redirect: "manual",
        signal: signal ?? null,
        // Required by Node's fetch for streaming request bodies (a literal, not a spread per request).
        duplex: "half",
      };
      response = await fetcher(targetUrl(request), init);
    } catch (err) {
      if (clearHeadersTimer !== null) clearTimeout(clearHeadersTimer);
      if (cancelled !== null) throw (cancelled as { reason: unknown }).reason;
      if (request.signal?.aborted === true) throw request.signal.reason;
      const code = ((err as { cause?: { code?: string } }).cause?.code ?? "") as string;
      if (CONNECT_CODES.has(code)) throw new TransportError("connect_failed", `${code}: cannot connect to ${request.origin}`, { cause: err });
      throw new TransportError("reset", `fetch to ${request.origin} failed: ${(err as Error).message}`, { cause: err });
    }
    if (clearHeadersTimer !== null) clearTimeout(clearHeadersTimer);
    const lines: string[] = [];
    let dropped: string[] | undefined;
    let cookies = false;
    const upstreamHeaders = response.headers;
    upstreamHeaders.forEach((value, name) => {
      if (name === "set-cookie") cookies = true;
      else if (HOP_BY_HOP.has(name)) (dropped ??= []).push(name);
      else lines.push(name, value);
    });
    if (cookies) for (const cookie of upstreamHeaders.getSetCookie()) lines.push("set-cookie", cookie);
    // Workers: a WebSocket handshake through fetch answers 101 with the switched socket.
    const status = response.status;
    const webSocket = status === 101 ? ((response as { webSocket?: WebResponseBody["webSocket"] }).webSocket ?? null) : null;
    if (webSocket !== null) {
      const kept: string[] = [];
      for (let i = 0; i < lines.length; i += 2) if (!HANDSHAKE.has(lines[i]!)) kept.push(lines[i]!, lines[i + 1]!);
      return { status: 101, headers: new HeaderList(kept), body: new WebResponseBody(null, webSocket) };
    }
    return { status, headers: new FetchedHeaderList(lines, upstreamHeaders, dropped), body: new WebResponseBody(response.body) };
  }

  async makeReplayable(body: RequestBody, maxBytes: number): Promise<RequestBody> {
    const web = body as WebRequestBody;
    if (web.bytes !== null || web.stream === null) return web;
    if (web.length !== null && web.length > maxBytes) return web;
    const [mine, rest] = web.stream.tee();
    const bytes = await readAtMost(mine, maxBytes);
    if (bytes === null) return Object.assign(new WebRequestBody(rest, null, web.length), { limiter: web.limiter });
    void rest.cancel();
    return new WebRequestBody(null, bytes, bytes.byteLength);
  }
}

/**
 * The URL fetched: the endpoint's origin and the request's path; through a service binding the
 * bound Worker sees the request's own Host (it is a name, not an address, so nothing is dialled).
 */
function targetUrl(request: UpstreamRequest): string {
  if (!request.origin.startsWith(BINDING_ORIGIN)) return request.origin + request.path;
  const host = request.headers.get("host") ?? request.origin.slice(BINDING_ORIGIN.length).toLowerCase();
  return `https://${host}${request.path}`;
}
