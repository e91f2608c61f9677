import { constants, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http2";
import type { RequestBody } from "../../http/exchange.js";
import { HeaderList } from "../../http/header-list.js";
import { GatewayError } from "../../http/gateway-error.js";
import { onAbort } from "../../http/abort-link.js";
import { DEFAULT_CONNECTION, TransportError, poolKey, type Transport, type UpstreamRequest, type UpstreamResponse } from "../../upstream/transport.js";
import { H2SessionPool, PooledSession, type Lease } from "./h2-session-pool.js";
import { H2BodyPump, CONNECTION_SPECIFIC } from "./h2-body-pump.js";
import { NodeResponseBody } from "./node-response-body.js";
import { connectOptions } from "./undici-transport.js";
import type { NodeRequestBody } from "./node-body.js";

export interface Http2TransportOptions {
  /** Sessions per endpoint when the Backend sets no `connection.maxConnections`. Default 16. */
  readonly maxSessions?: number;
}

/** A refused stream is sent again at most this many times (each on another session). */
const MAX_REFUSALS = 3;

/**
 * HTTP/2 to upstreams on node:http2 sessions pooled per endpoint (h2-session-pool.ts): one
 * connection multiplexes every stream the peer allows, POSTs and streamed bodies included (undici
 * sends those one per connection). h2c for http://, ALPN h2 for https:// with the Backend's TLS;
 * an endpoint that answers ALPN with http/1.1 is handed to `http1`.
 */
export class Http2Transport implements Transport {
  private readonly pools = new Map<string, H2SessionPool>();

  constructor(
    private readonly http1: Transport,
    private readonly options: Http2TransportOptions = {},
  ) {}

  send(request: UpstreamRequest): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      let pool: H2SessionPool;
      try {
        pool = this.pool(request);
      } catch (err) {
        return reject(new TransportError("connect_failed", (err as Error).message, { cause: err }));
      }
      new H2Exchange(request, pool, resolve, reject, () => this.http1.send({ ...request, protocol: "http1" })).start();
    });
  }

  makeReplayable(body: RequestBody, maxBytes: number): Promise<RequestBody> {
    return this.http1.makeReplayable(body, maxBytes);
  }

  /** Sessions open to `origin` now, over all its pools (tests and diagnostics). */
  sessionsTo(origin: string): number {
    let n = 0;
    for (const [key, pool] of this.pools) if (key === origin || key.startsWith(`${origin}\u0000`) || key.startsWith(`${origin}\u0002`)) n += pool.liveSessions();
    return n;
  }

  retain(keys: ReadonlySet<string>): void {
    for (const [key, pool] of this.pools) {
      if (keys.has(key)) continue;
      this.pools.delete(key);
      pool.close();
    }
  }

  async close(): Promise<void> {
    for (const pool of this.pools.values()) pool.close();
    this.pools.clear();
  }

  private pool(request: UpstreamRequest): H2SessionPool {
    const connection = request.connection ?? DEFAULT_CONNECTION;
    const tls = request.tls ?? null;
    const key = poolKey(request.origin, tls, connection, "h2");
    let pool = this.pools.get(key);
    if (pool === undefined) {
      const https = request.origin.startsWith("https:");
      pool = new H2SessionPool(request.origin, {
        tls: https ? (tls ? connectOptions(tls) : { rejectUnauthorized: true }) : null,
        maxSessions: connection.maxConnections ?? this.options.maxSessions ?? 16,
        // Unlimited connections (the default) queue without a bound of their own, as undici does.
        maxPending: connection.maxConnections === null ? Number.POSITIVE_INFINITY : connection.maxPendingRequests,
        maxStreamsPerSession: connection.maxRequestsPerConnection,
        connectTimeoutMs: connection.connectTimeoutMs,
        idleTimeoutMs: connection.idleTimeoutMs,
      });
      this.pools.set(key, pool);
    }
    return pool;
  }
}

/** One request over the pool: lease a stream slot, send, relay the answer; again on a refused stream. */
class H2Exchange {
  private waiting: ((err: TransportError | null, lease: Lease | null) => void) | null = null;
  private stream: ClientHttp2Stream | null = null;
  private readonly pump: H2BodyPump | null;
  private body: NodeResponseBody | null = null;
  private cancelled: { reason: unknown } | null = null;
  private refusals = 0;
  private leave: (() => void) | null = null;
  private readonly headers: OutgoingHttpHeaders;

  constructor(
    private readonly request: UpstreamRequest,
    private readonly pool: H2SessionPool,
    private readonly resolve: (res: UpstreamResponse) => void,
    private readonly reject: (err: unknown) => void,
    private readonly viaHttp1: () => Promise<UpstreamResponse>,
  ) {
    const body = request.body as NodeRequestBody | null;
    this.pump = body === null ? null : new H2BodyPump(body);
    this.headers = h2RequestHeaders(request);
    request.cancelHook?.((reason) => this.abort(reason));
  }

  start(): void {
    const signal = this.request.signal;
    if (signal?.aborted === true) return this.reject(signal.reason);
    this.leave ??= onAbort(signal, (reason) => this.abort(reason));
    const cb = (err: TransportError | null, lease: Lease | null) => {
      this.waiting = null;
      if (this.cancelled !== null) {
        if (lease instanceof PooledSession) this.pool.release(lease);
        return;
      }
      if (err !== null) return this.finish(err);
      if (lease === "http1") {
        this.leave?.();
        return void this.viaHttp1().then(this.resolve, this.reject);
      }
      this.open(lease!);
    };
    this.waiting = cb;
    this.pool.lease(cb);
  }

  private open(s: PooledSession): void {
    let stream: ClientHttp2Stream;
    try {
      stream = s.session!.request(this.headers, { endStream: this.pump === null, ...(this.pump?.wantsTrailers ? { waitForTrailers: true } : {}) });
    } catch (err) {
      this.pool.release(s);
      // The session closed under us (GOAWAY in flight): nothing was sent, try another one.
      if (s.session!.closed || s.session!.destroyed) return this.refused(new TransportError("connect_failed", `HTTP/2 session to ${this.request.origin} closed`, { cause: err }));
      return this.finish(new GatewayError("request_not_forwardable", `the request cannot be forwarded: ${(err as Error).message}`, undefined, { cause: err }));
    }
    this.stream = stream;
    let error: Error | null = null;
    let timedOut = false;
    let ended = false;
    let trailers: HeaderList | null = null;
    const headersMs = this.request.headersTimeoutMs ?? 0;
    const onTimeout = () => {
      timedOut = true;
      stream.close(constants.NGHTTP2_CANCEL);
    };
    if (headersMs > 0) stream.setTimeout(headersMs, onTimeout);
    stream.on("response", (headers: IncomingHttpHeaders) => {
      this.pump?.settled();
      const idleMs = this.request.bodyIdleTimeoutMs ?? 0;
      if (idleMs > 0 || headersMs > 0) stream.setTimeout(idleMs, idleMs > 0 ? onTimeout : () => undefined);
      this.body = new NodeResponseBody(
        () => stream.resume(),
        () => stream.close(constants.NGHTTP2_CANCEL),
      );
      this.leave?.();
      this.leave = null;
      this.resolve({ status: Number(headers[":status"]), headers: headerListOf(headers), body: this.body });
    });
    stream.on("data", (chunk: Buffer) => {
      if (!this.body!.push(chunk)) stream.pause();
    });
    stream.on("trailers", (fields: IncomingHttpHeaders) => {
      trailers = headerListOf(fields);
    });
    stream.on("end", () => {
      // node:http2 ends the readable side of a stream its session lost too, with a reset code.
      if (stream.rstCode !== undefined && stream.rstCode !== constants.NGHTTP2_NO_ERROR) return;
      ended = true;
      this.body?.end(trailers);
    });
    stream.on("error", (err: Error) => {
      error ??= err;
    });
    stream.on("close", () => {
      this.pool.release(s);
      if (ended && this.body !== null) return;
      const body = this.body;
      if (body !== null) {
        if (body.outcome === "cancelled") return;
        return body.fail(timedOut ? Object.assign(new Error(`response body idle for ${this.request.bodyIdleTimeoutMs} ms`), { code: "UND_ERR_BODY_TIMEOUT" }) : (error ?? new Error(`HTTP/2 stream closed (code ${stream.rstCode})`)));
      }
      if (this.cancelled !== null) return this.finish(this.cancelled.reason);
      if (timedOut) return this.finish(new TransportError("timeout", `no response headers within ${headersMs} ms`));
      if (error instanceof GatewayError) return this.finish(error);
      // Never processed upstream (RFC 9113 §8.7): REFUSED_STREAM, above a GOAWAY's last stream id, or never sent.
      const refused = stream.rstCode === constants.NGHTTP2_REFUSED_STREAM || stream.id === undefined || stream.id > s.lastStreamId;
      const cause = error ?? s.error;
      if (refused) return this.refused(new TransportError("connect_failed", `HTTP/2 stream refused by ${this.request.origin} (GOAWAY or REFUSED_STREAM)`, { cause }));
      const code = (cause as { code?: string } | null)?.code;
      this.finish(new TransportError("reset", `${code ?? "HTTP/2 stream reset"}: ${cause?.message ?? `stream closed with code ${stream.rstCode}`}`, { cause }));
    });
    this.pump?.attach(stream, (err) => {
      error ??= err;
      stream.close(constants.NGHTTP2_CANCEL);
    });
  }

  /** The upstream never saw this stream: send it again on another session while the body can be replayed. */
  private refused(err: TransportError): void {
    this.stream = null;
    this.pump?.detach();
    if (++this.refusals <= MAX_REFUSALS && (this.pump === null || this.pump.replayable)) return this.start();
    this.finish(err);
  }

  private finish(err: unknown): void {
    this.leave?.();
    this.leave = null;
    this.reject(err);
  }

  private abort(reason: unknown): void {
    if (this.cancelled !== null || this.body !== null) return;
    this.cancelled = { reason };
    if (this.waiting !== null) {
      this.pool.forget(this.waiting);
      this.waiting = null;
      return this.finish(reason);
    }
    // The stream's close reports the reason; before the lease came back, its callback does.
    if (this.stream !== null) this.stream.close(constants.NGHTTP2_CANCEL);
    else this.finish(reason);
  }
}

/** The request line as pseudo-headers, Host as :authority, and no field HTTP/2 forbids. */
function h2RequestHeaders(request: UpstreamRequest): OutgoingHttpHeaders {
  const lines = request.headers.lines;
  const out: OutgoingHttpHeaders = {
    ":method": request.method,
    ":path": request.path,
    ":scheme": request.origin.startsWith("https:") ? "https" : "http",
    ":authority": request.headers.get("host") ?? new URL(request.origin).host,
  };
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const name = lines[i]!.toLowerCase();
    const value = lines[i + 1]!;
    if (CONNECTION_SPECIFIC.has(name) || name.charCodeAt(0) === 58) continue;
    // RFC 9113 §8.2.2: TE may only say "trailers".
    if (name === "te" && value.trim().toLowerCase() !== "trailers") continue;
    const prior = out[name];
    out[name] = prior === undefined ? value : name === "cookie" ? `${String(prior)}; ${value}` : Array.isArray(prior) ? [...prior, value] : [String(prior), value];
  }
  return out;
}

/** node:http2's header object as the gateway's header list (pseudo-headers left out). */
function headerListOf(headers: IncomingHttpHeaders): HeaderList {
  const lines: string[] = [];
  for (const name in headers) {
    if (name.charCodeAt(0) === 58) continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) lines.push(name, v);
    else lines.push(name, String(value));
  }
  return new HeaderList(lines);
}
