import type { HeaderList } from "../http/header-list.js";
import type { RequestBody, ResponseBody } from "../http/exchange.js";

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

/** The connection pool an attempt uses: one per origin, and per TLS settings when a Backend has them. */
export function poolKey(origin: string, tls: UpstreamTls | null | undefined): string {
  return tls ? `${origin}\u0000${tls.id}` : origin;
}

/** One attempt to one endpoint, as the forward stage hands it to the runtime. */
export interface UpstreamRequest {
  /** `http://host:port` or `https://host:port` of the chosen endpoint. */
  readonly origin: string;
  /** The Backend's TLS settings, when it has any. */
  readonly tls?: UpstreamTls | null;
  readonly method: string;
  /** Path plus query. */
  readonly path: string;
  /** Must include `host`; hop-by-hop headers already removed. */
  readonly headers: HeaderList;
  readonly body: RequestBody | null;
  /** Aborts the attempt: the client went away, or the request deadline passed. */
  readonly signal: AbortSignal;
  /**
   * Called synchronously by `send` with a function that aborts this attempt alone (per-try
   * timeout, lost hedge). Cheaper than a signal per attempt; `send` then rejects with the reason.
   */
  readonly cancelHook?: (cancel: (reason: unknown) => void) => void;
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
  | "bad_response"; // upstream spoke something that is not HTTP

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
