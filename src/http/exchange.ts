import type { GatewayError } from "./gateway-error.js";
import type { HeaderList } from "./header-list.js";
import type { PeerCertificate } from "./principal.js";
import type { UpgradeProtocol } from "./websocket.js";

/**
 * A request body as the runtime holds it. The core never reads bytes; it only asks
 * whether the body can be sent twice (for retries and mirrors).
 */
export interface RequestBody {
  /** Byte length when known (Content-Length or a buffered body). */
  readonly length: number | null;
  /** True when the bytes are held in memory and can be sent again. */
  readonly replayable: boolean;
  /**
   * The same body, failing with `payload_too_large` once more than `maxBytes` arrived (for
   * bodies of unknown length; a Content-Length is checked before). Runtimes without it send as is.
   */
  capped?(maxBytes: number): RequestBody;
  /**
   * The client may send trailer fields after the body (HTTP/1.1 with a `Trailer` header, a gRPC
   * call over HTTP/2): a transport that can pass them on keeps the upstream stream open for them.
   */
  readonly mayHaveTrailers?: boolean;
  /** The trailer fields that followed the body, once it was read to the end (null: none). */
  trailers?(): HeaderList | null;
}

/**
 * How a streamed response body ended: delivered whole; cut by the upstream (reset, or fewer
 * bytes than announced); stalled past the idle timeout; or cancelled by the gateway itself
 * (client gone, lost hedge, retried), which says nothing about the upstream.
 */
export type BodyEnd = "complete" | "failed" | "timeout" | "cancelled";

/** A response body from the transport: handed to the runtime to stream, or dropped. */
export interface ResponseBody {
  /** Stops reading and releases the upstream connection's claim on it. */
  cancel(reason?: unknown): void;
  /**
   * Calls `fn` once the body has been fully delivered, failed or been cancelled, with how it
   * ended. Optional: where a runtime cannot tell (Workers' native streams), callers treat the
   * response headers as the end of the exchange.
   */
  onSettled?(fn: (end: BodyEnd) => void): void;
  /** Bytes delivered so far, where the runtime counts them. */
  readonly bytes?: number;
  /**
   * The trailer fields that followed the body (gRPC's grpc-status and grpc-message), once it
   * completed and when the upstream sent any; the runtime writes them after the body.
   */
  readonly trailers?: HeaderList | null;
  /**
   * A switched connection (101 to an upgrade): bytes relayed each way so far, where the runtime
   * counts them. `onSettled` then fires when the tunnel closes.
   */
  readonly tunnel?: { readonly toUpstream: number; readonly toClient: number };
}

/** What a runtime adapter builds for every request before the pipeline runs. */
export interface GatewayRequest {
  method: string;
  /** "http" or "https": how the client reached the gateway. */
  readonly scheme: "http" | "https";
  /** Request host without port, lower case, no trailing dot. */
  host: string;
  /** Port from the Host header, or null when it had none. */
  readonly hostPort: number | null;
  /** Port the gateway listener accepted the connection on. */
  readonly listenerPort: number;
  /** Path as received, without query; starts with "/". */
  path: string;
  /** Query string including the leading "?", or "". */
  query: string;
  readonly headers: HeaderList;
  body: RequestBody | null;
  /**
   * The client's address: the runtime sets the connection's peer; hygiene replaces it with the
   * right-most X-Forwarded-For entry that is not a trusted proxy (when the peer is one).
   */
  clientAddress: string;
  /** The connection's peer, as the runtime saw it; set by hygiene. */
  peerAddress?: string;
  /** Set by the runtime when the request head is unacceptable (Host, target): answered before any stage. */
  readonly malformed?: GatewayError | null;
  /** The TLS client certificate, when the client presented one (Node HTTPS, Workers mTLS). */
  readonly peerCertificate?: PeerCertificate | null;
  /** Clock reading (ms) when the request arrived. */
  readonly startTime: number;
  /**
   * Set by the runtime for a valid WebSocket opening handshake (`isWebSocketUpgrade`): the
   * request keeps Upgrade/Connection, and a 101 answer switches the connection to a tunnel.
   */
  readonly upgrade?: UpgradeProtocol | null;
  /** How the client spoke to the gateway (ALPN names): "h2" for HTTP/2 (h2c or TLS); absent: HTTP/1.x. */
  readonly protocol?: "http/1.1" | "h2";
}

/** The gateway's answer; the runtime adapter writes it out. */
export interface GatewayResponse {
  status: number;
  headers: HeaderList;
  /** A gateway-made body, an upstream body to stream, or nothing. */
  body: string | Uint8Array | ResponseBody | null;
}

export function isResponseBody(body: GatewayResponse["body"]): body is ResponseBody {
  return body !== null && typeof body === "object" && !(body instanceof Uint8Array);
}
