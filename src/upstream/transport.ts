import type { HeaderList } from "../http/header-list.js";
import type { RequestBody, ResponseBody } from "../http/exchange.js";
import type { UpstreamProtocol } from "./app-protocol.js";
import type { UpgradeProtocol } from "../http/websocket.js";

/** A Backend's TLS settings for https endpoints (and upstream mTLS). */
export interface UpstreamTls {
  /** Stable identity of these settings: pools are per origin and TLS settings. */
  readonly id: string;
  readonly ca?: string | undefined;
  readonly caFile?: string | undefined;
  readonly serverName?: string | undefined;
  readonly insecureSkipVerify: boolean;
  readonly clientCertificate?: { readonly cert: string; readonly key: string } | { readonly certFile: string; readonly keyFile: string } | { readonly binding: string } | undefined;
}

/**
 * A Backend's `spec.connection`, per endpoint. The transport applies it where connections live,
 * so each protocol counts what it multiplexes: HTTP/1.1 one request per connection, an HTTP/2
 * transport `maxConnections` × its streams per connection.
 */
export interface ConnectionPolicy {
  /** Stable identity of these settings ("" for all defaults): pools are per origin, TLS and connection settings. */
  readonly id: string;
  /** null: unlimited. */
  readonly maxConnections: number | null;
  /** Requests that may wait for a connection beyond maxConnections; more answer 503 backend_overloaded. */
  readonly maxPendingRequests: number;
  /** null: unlimited. */
  readonly maxRequestsPerConnection: number | null;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

/** Defaults: a refused SYN is noticed in 5 s (Envoy's default), idle pooled connections close after 4 s (undici's). */
export const DEFAULT_CONNECTION: ConnectionPolicy = { id: "", maxConnections: null, maxPendingRequests: 1024, maxRequestsPerConnection: null, connectTimeoutMs: 5_000, idleTimeoutMs: 4_000 };

/** The connection pool an attempt uses: one per origin and protocol, and per TLS and connection settings when a Backend has them. */
export function poolKey(origin: string, tls: UpstreamTls | null | undefined, connection?: ConnectionPolicy | null, protocol?: UpstreamProtocol): string {
  const withTls = tls ? `${origin}\u0000${tls.id}` : origin;
  const base = protocol === "h2" ? `${withTls}\u0002h2` : withTls;
  return connection && connection.id !== "" ? `${base}\u0001${connection.id}` : base;
}

/** One attempt to one endpoint, as the forward stage hands it to the runtime. */
export interface UpstreamRequest {
  /** `http://host:port` or `https://host:port` of the chosen endpoint. */
  readonly origin: string;
  /** The Backend's TLS settings, when it has any. */
  readonly tls?: UpstreamTls | null;
  /** What to speak to the endpoint (app-protocol.ts); absent: HTTP/1.1. */
  readonly protocol?: UpstreamProtocol;
  readonly method: string;
  /** Path plus query. */
  readonly path: string;
  /** Must include `host`; hop-by-hop headers already removed. */
  readonly headers: HeaderList;
  readonly body: RequestBody | null;
  /**
   * Aborts the attempt: the client went away, or the request deadline passed. Absent when
   * nothing outside the attempt can cancel it (Workers, no route deadline): transports then
   * listen to nothing, which saves a controller and a listener per request in workerd.
   */
  readonly signal?: AbortSignal | undefined;
  /**
   * Called synchronously by `send` with a function that aborts this attempt alone (per-try
   * timeout, lost hedge). Cheaper than a signal per attempt; `send` then rejects with the reason.
   */
  readonly cancelHook?: (cancel: (reason: unknown) => void) => void;
  /** The Backend's connection settings (limits, pool); absent: DEFAULT_CONNECTION. */
  readonly connection?: ConnectionPolicy;
  /** Fail with code "timeout" when no response headers came within this many ms (0 or absent: none). */
  readonly headersTimeoutMs?: number;
  /** Fail the body when it is silent this long between two chunks (0 or absent: none). */
  readonly bodyIdleTimeoutMs?: number;
  /**
   * The client's WebSocket handshake, passed on over HTTP/1.1 (headers carry Upgrade and
   * Connection). A 101 answer's body is the runtime's tunnel (closed after `bodyIdleTimeoutMs`
   * of silence both ways); any other answer is an ordinary response, relayed as such.
   */
  readonly upgrade?: UpgradeProtocol | null;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: HeaderList;
  readonly body: ResponseBody;
}

/** Stable failure codes a transport reports; retries and error mapping branch on them. */
export type TransportErrorCode =
  | "connect_failed" // nothing was sent: always safe to retry
  | "reset" // connection lost after the request was (maybe) sent
  | "aborted" // our own signal fired
  | "bad_response" // upstream spoke something that is not HTTP
  | "timeout" // no response headers within headersTimeoutMs
  | "overloaded"; // the endpoint's connections and pending queue are full: nothing was sent

export class TransportError extends Error {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "TransportError";
  }
}

/**
 * How the core reaches upstreams. Node implements it on undici pools, Workers on fetch.
 * `send` resolves when response headers arrive; the body streams afterwards.
 */
export interface Transport {
  send(request: UpstreamRequest): Promise<UpstreamResponse>;
  /**
   * Reads a body of at most `maxBytes` into memory so it can be sent more than once.
   * A larger body comes back still streaming (`replayable` false) with no byte lost;
   * the caller must use the returned body in place of the one it passed.
   */
  makeReplayable(body: RequestBody, maxBytes: number): Promise<RequestBody>;
  /** Releases pools for origins no longer in use (after a config swap). */
  retain?(origins: ReadonlySet<string>): void;
  close?(): Promise<void>;
}
