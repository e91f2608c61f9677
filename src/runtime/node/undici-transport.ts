import type { Dispatcher, Pool as UndiciPool } from "undici";
// undici's entry loads all of undici (fetch, WebSocket, EventSource, caches, mocks: ~70 ms of a
// one-core start); forwarding needs its Pool and its error classes. The package has no exports
// map; a version that moved these files fails every transport test at import.
import Pool from "undici/lib/dispatcher/pool.js";
import errors from "undici/lib/core/errors.js";
import type { RequestBody } from "../../http/exchange.js";
import { HeaderList } from "../../http/header-list.js";
import { GatewayError } from "../../http/gateway-error.js";
import { readFileSync } from "node:fs";
import { DEFAULT_CONNECTION, TransportError, poolKey, type ConnectionPolicy, type Transport, type UpstreamRequest, type UpstreamResponse, type UpstreamTls } from "../../upstream/transport.js";
import { ConnectionLimiter } from "../../upstream/connection-limiter.js";
import { NodeRequestBody, bufferBody } from "./node-body.js";
import { NodeResponseBody } from "./node-response-body.js";
import { onAbort } from "../../http/abort-link.js";
import { CoarseDeadlines, type Watched } from "./coarse-deadlines.js";

export interface UndiciTransportOptions {
  /** Max connections per upstream origin. Default: unlimited (undici's default). */
  readonly connectionsPerOrigin?: number;
  /** Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Idle keep-alive before a pooled connection closes. Default 4 s (undici). */
  readonly keepAliveTimeoutMs?: number;
  /**
   * Upstream timeouts of at least this many ms (the 15 s / 60 s defaults) are checked by one sweep
   * instead of a timer per request; shorter ones keep undici's own. Default 5000.
   */
  readonly sweptTimeoutsFromMs?: number;
  /** How often that sweep runs. Default 250 ms: a swept timeout fires at most 0.5 s late, never early. */
  readonly sweepPeriodMs?: number;
}

/** Response headers that describe one hop only; the gateway's own hop sets its own. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);
const HOP_LENGTHS = new Set([...HOP_BY_HOP].map((name) => name.length));

/** Errors raised before any byte was sent: safe to retry for every method. */
export const CONNECT_CODES: ReadonlySet<string> = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT", "ERR_TLS_CERT_ALTNAME_INVALID", "DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "CERT_HAS_EXPIRED"]);

interface PoolEntry {
  readonly pool: UndiciPool;
  readonly limiter: ConnectionLimiter | null;
}

/** HTTP/1.1 to upstreams: one undici Pool per upstream origin (and TLS and connection settings), driven through `dispatch`. */
export class UndiciTransport implements Transport {
  private readonly pools = new Map<string, PoolEntry>();
  private readonly deadlines: CoarseDeadlines;
  private readonly sweptFromMs: number;

  constructor(private readonly options: UndiciTransportOptions = {}) {
    this.deadlines = new CoarseDeadlines(options.sweepPeriodMs ?? 250);
    this.sweptFromMs = options.sweptTimeoutsFromMs ?? 5_000;
  }

  send(request: UpstreamRequest): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      const body = request.body as NodeRequestBody | null;
      let entry: PoolEntry;
      try {
        entry = this.pool(request.origin, request.tls ?? null, request.connection ?? DEFAULT_CONNECTION);
      } catch (err) {
        return reject(new TransportError("connect_failed", (err as Error).message, { cause: err }));
      }
      const limiter = entry.limiter;
      if (limiter !== null && !limiter.tryAcquire()) {
        const c = request.connection!;
        return reject(new TransportError("overloaded", `endpoint ${request.origin} has ${c.maxConnections} connection(s) busy and ${c.maxPendingRequests} request(s) waiting`));
      }
      const headersMs = request.headersTimeoutMs ?? 0;
      const idleMs = request.bodyIdleTimeoutMs ?? 0;
      // undici counts the headers timeout from the end of the upload; a streamed upload keeps its timer, which knows when that is.
      const sweptHeaders = headersMs >= this.sweptFromMs && (body === null || body.buffer !== null);
      const sweptIdle = idleMs >= this.sweptFromMs;
      const deadlines = sweptHeaders || sweptIdle ? this.deadlines : null;
      const handler = new ForwardHandler(request.signal, resolve, reject, limiter, deadlines, sweptHeaders ? this.deadlines.ticksFor(headersMs) : 0, sweptIdle ? this.deadlines.ticksFor(idleMs) : 0);
      request.cancelHook?.((reason) => handler.abortNow(reason));
      entry.pool.dispatch(
        {
          path: request.path,
          method: request.method as Dispatcher.HttpMethod,
          headers: request.headers.lines,
          body: body === null ? null : (body.buffer ?? body.stream),
          // Short timeouts on undici's timers; long ones on the sweep (handler.due).
          headersTimeout: sweptHeaders ? 0 : headersMs,
          bodyTimeout: sweptIdle ? 0 : idleMs,
          // One request per connection; false is undici's default (no spread on the per-request path).
          reset: request.connection?.maxRequestsPerConnection === 1,
        },
        handler,
      );
    });
  }

  makeReplayable(body: RequestBody, maxBytes: number): Promise<RequestBody> {
    return bufferBody(body as NodeRequestBody, maxBytes);
  }

  retain(keys: ReadonlySet<string>): void {
    for (const [key, entry] of this.pools) {
      if (keys.has(key)) continue;
      this.pools.delete(key);
      // close() lets in-flight requests on the old config finish first.
      void entry.pool.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.deadlines.close();
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(pools.map((p) => p.pool.close()));
  }

  private pool(origin: string, tls: UpstreamTls | null, connection: ConnectionPolicy): PoolEntry {
    const key = poolKey(origin, tls, connection, "http1");
    let entry = this.pools.get(key);
    if (entry === undefined) {
      // HTTP/2 upstreams are h2-transport.ts's: undici's HTTP/2 sends POSTs and streamed bodies one per connection.
      const pool = new Pool(origin, {
        ...(tls && origin.startsWith("https:") ? { connect: connectOptions(tls) } : {}),
        connections: connection.maxConnections ?? this.options.connectionsPerOrigin ?? null,
        connectTimeout: connection.id === "" ? (this.options.connectTimeoutMs ?? connection.connectTimeoutMs) : connection.connectTimeoutMs,
        keepAliveTimeout: connection.id === "" ? (this.options.keepAliveTimeoutMs ?? connection.idleTimeoutMs) : connection.idleTimeoutMs,
        // undici closes a socket after maxRequestsPerClient + 1 requests (its counter checks before
        // counting), and 0 means unlimited; one request per connection is `reset` per dispatch instead.
        ...(connection.maxRequestsPerConnection !== null && connection.maxRequestsPerConnection > 1 ? { maxRequestsPerClient: connection.maxRequestsPerConnection - 1 } : {}),
        // Per request instead (UpstreamRequest.headersTimeoutMs / bodyIdleTimeoutMs); undici's 300 s defaults would mask them.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      entry = { pool, limiter: ConnectionLimiter.for(connection) };
      this.pools.set(key, entry);
    }
    return entry;
  }
}

const WAITING_FOR_HEADERS = 1;
const READING_BODY = 2;

/** undici's native (legacy) handler interface: no wrapping, no Readable per response. */
class ForwardHandler implements Dispatcher.DispatchHandler, Watched {
  private abortRequest: ((reason?: unknown) => void) | null = null;
  private body: NodeResponseBody | null = null;
  private cancelled: { reason: unknown } | null = null;
  private leave: (() => void) | null = null;
  /** Swept deadlines: the phase, the tick of the last progress, and whether the client side holds the body back. */
  private phase = 0;
  private mark = 0;
  sweepSlot = -1;
  private paused = false;

  abortNow(reason: unknown): void {
    this.cancelled ??= { reason };
    // Before undici called onConnect there is nothing to abort yet; onConnect checks `cancelled`.
    this.abortRequest?.(reason);
  }

  private untrack(): void {
    this.leave?.();
    this.deadlines?.delete(this);
  }

  due(tick: number): boolean {
    // Held back by a slow client is not the upstream's silence (undici's rule too).
    if (this.paused) return false;
    const limit = this.phase === WAITING_FOR_HEADERS ? this.headersTicks : this.idleTicks;
    return limit > 0 && tick - this.mark >= limit;
  }

  expire(): void {
    // The same errors undici's own timers raise, so they are classified and reported alike.
    this.abortRequest?.(this.phase === WAITING_FOR_HEADERS ? new errors.HeadersTimeoutError() : new errors.BodyTimeoutError());
  }

  constructor(
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (res: UpstreamResponse) => void,
    private readonly reject: (err: unknown) => void,
    private limiter: ConnectionLimiter | null,
    private readonly deadlines: CoarseDeadlines | null,
    private readonly headersTicks: number,
    private readonly idleTicks: number,
  ) {}

  /** The endpoint slot is held until the exchange is over, body included. */
  private releaseSlot(): void {
    this.limiter?.release();
    this.limiter = null;
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortRequest = abort as (reason?: unknown) => void;
    if (this.cancelled !== null) abort(this.cancelled.reason as Error);
    else if (this.signal?.aborted === true) abort(this.signal.reason as Error);
    else {
      this.leave = onAbort(this.signal, (reason) => this.abortNow(reason));
      if (this.deadlines !== null) {
        this.phase = WAITING_FOR_HEADERS;
        this.mark = this.deadlines.tick;
        this.deadlines.add(this);
      }
    }
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    const deadlines = this.deadlines;
    if (deadlines !== null) this.mark = deadlines.tick;
    if (statusCode < 200) return true; // 1xx informational: wait for the final response
    const lines: string[] = [];
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!.toString("latin1");
      // Only names as long as a hop-by-hop one need lower-casing to be looked up.
      if (HOP_LENGTHS.has(name.length) && HOP_BY_HOP.has(name.toLowerCase())) continue;
      lines.push(name, rawHeaders[i + 1]!.toString("latin1"));
    }
    this.phase = READING_BODY;
    const resumeBody =
      deadlines === null
        ? resume
        : () => {
            this.paused = false;
            this.mark = deadlines.tick;
            resume();
          };
    this.body = new NodeResponseBody(resumeBody, (reason) => this.abortRequest?.(reason));
    this.resolve({ status: statusCode, headers: new HeaderList(lines), body: this.body });
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.deadlines === null) return this.body!.push(chunk);
    this.mark = this.deadlines.tick;
    const more = this.body!.push(chunk);
    if (!more) this.paused = true;
    return more;
  }

  onComplete(trailers?: Buffer[] | string[] | Record<string, string | string[] | undefined> | null): void {
    this.untrack();
    this.releaseSlot();
    this.body!.end(trailersOf(trailers));
  }

  onError(err: Error): void {
    this.untrack();
    this.releaseSlot();
    if (this.body !== null) return this.body.fail(err);
    this.reject(this.cancelled !== null ? this.cancelled.reason : toTransportError(err, this.signal));
  }
}

/** undici hands HTTP/1.1 trailers as raw name/value lines and HTTP/2 ones as a header object. */
function trailersOf(raw: Buffer[] | string[] | Record<string, string | string[] | undefined> | null | undefined): HeaderList | null {
  if (raw === null || raw === undefined) return null;
  const lines: string[] = [];
  if (Array.isArray(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) lines.push(raw[i]!.toString(), raw[i + 1]!.toString());
  } else {
    for (const [name, value] of Object.entries(raw)) {
      if (name.startsWith(":") || value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) lines.push(name, v);
    }
  }
  return lines.length === 0 ? null : new HeaderList(lines);
}

function toTransportError(err: Error, signal: AbortSignal | undefined): unknown {
  // Our own body stream refused to go on (over the body limit): the request's fault.
  if (err instanceof GatewayError) return err;
  if (signal?.aborted === true) return signal.reason ?? new TransportError("aborted", "request aborted", { cause: err });
  const code = (err as { code?: string }).code ?? "";
  // undici refused to build the request (a header it cannot send): our doing, not the upstream's.
  if (code === "UND_ERR_INVALID_ARG") return new GatewayError("request_not_forwardable", `the request cannot be forwarded: ${err.message}`, undefined, { cause: err });
  if (CONNECT_CODES.has(code)) return new TransportError("connect_failed", `${code}: ${err.message}`, { cause: err });
  if (code === "UND_ERR_HEADERS_TIMEOUT") return new TransportError("timeout", err.message, { cause: err });
  if (code.startsWith("HPE_") || code === "UND_ERR_INFO") return new TransportError("bad_response", err.message, { cause: err });
  return new TransportError("reset", `${code || err.name}: ${err.message}`, { cause: err });
}

/** A Backend's TLS settings as undici connect options; files are read when the pool is made (each reload). */
export function connectOptions(tls: UpstreamTls): { ca?: string; cert?: string; key?: string; servername?: string; rejectUnauthorized: boolean } {
  const read = (file: string, field: string) => {
    try {
      return readFileSync(file, "utf8");
    } catch (err) {
      throw new Error(`Backend tls.${field} ${file} cannot be read: ${(err as Error).message}`);
    }
  };
  const cc = tls.clientCertificate;
  if (cc && "binding" in cc) throw new Error(`Backend tls.clientCertificate.binding (${cc.binding}) is a Workers mtls_certificates binding; on Node give cert/key or certFile/keyFile`);
  return {
    rejectUnauthorized: !tls.insecureSkipVerify,
    ...(tls.ca ? { ca: tls.ca } : tls.caFile ? { ca: read(tls.caFile, "caFile") } : {}),
    ...(tls.serverName ? { servername: tls.serverName } : {}),
    ...(cc && "cert" in cc ? { cert: cc.cert, key: cc.key } : cc && "certFile" in cc ? { cert: read(cc.certFile, "clientCertificate.certFile"), key: read(cc.keyFile, "clientCertificate.keyFile") } : {}),
  };
}
