import type { GatewayRequest } from "../http/exchange.js";
import { CidrSet } from "../http/cidr.js";
import { randomHex } from "../http/random-hex.js";

export interface HygieneOptions {
  /** Client addresses whose x-request-id, x-forwarded-proto and traceparent are believed. Default: loopback. */
  readonly trustedProxies?: readonly string[];
  /** Generates request ids; injected for tests. Default: crypto.randomUUID. */
  readonly newRequestId?: () => string;
}

/** RFC 9110 hop-by-hop headers, plus ones that must not reach an upstream from a client. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "expect",
  "http2-settings",
]);

const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * First stage: make the request safe to read and to forward. Hop-by-hop headers out,
 * forwarding headers in, a request id and a trace context that every later stage and
 * the access log can rely on.
 */
/** The request's identity for logs and traces, set by the hygiene stage. */
export interface RequestIds {
  readonly requestId: string;
  readonly traceId: string;
  /** The gateway's server span for this request (the parent of every upstream attempt). */
  readonly spanId: string;
  /** The caller's span, when a valid traceparent came in. */
  readonly parentSpanId: string | null;
  readonly sampled: boolean;
}

/** Hop-by-hop headers plus `also` (a snapshot's identity headers): removed in one pass per request. */
export function headersToStrip(also: Iterable<string>): ReadonlySet<string> {
  return new Set([...HOP_BY_HOP, ...also]);
}

/** `strip` (default: hop-by-hop only) comes from `headersToStrip`, built once per snapshot. */
export function hygiene(options: HygieneOptions = {}): (req: GatewayRequest, strip?: ReadonlySet<string>) => RequestIds {
  const trusted = new CidrSet(options.trustedProxies ?? ["127.0.0.0/8", "::1/128"]);
  const newRequestId = options.newRequestId ?? (() => crypto.randomUUID());
  const trustCache = new Map<string, boolean>();
  const isTrusted = (address: string) => {
    let hit = trustCache.get(address);
    if (hit === undefined) {
      hit = trusted.contains(address);
      if (trustCache.size > 10_000) trustCache.clear();
      trustCache.set(address, hit);
    }
    return hit;
  };

  return function cleanRequest(req, strip = HOP_BY_HOP) {
    if (req.malformed) throw req.malformed; // the runtime refused the request head (Host, target)
    const headers = req.headers;
    const connection = headers.get("connection");
    if (connection !== undefined) {
      const named = new Set(strip);
      for (const token of connection.split(",")) named.add(token.trim().toLowerCase());
      headers.deleteAll(named);
    } else {
      headers.deleteAll(strip);
    }

    const fromTrusted = isTrusted(req.clientAddress);
    const xff = headers.getJoined("x-forwarded-for");
    headers.set("x-forwarded-for", xff === undefined ? req.clientAddress : `${xff}, ${req.clientAddress}`);
    if (!fromTrusted || !headers.has("x-forwarded-proto")) headers.set("x-forwarded-proto", req.scheme);

    let requestId = fromTrusted ? headers.get("x-request-id") : undefined;
    if (requestId === undefined || !REQUEST_ID.test(requestId)) {
      requestId = newRequestId();
      headers.set("x-request-id", requestId);
    }

    const incoming = headers.get("traceparent");
    const parsed = incoming === undefined ? null : TRACEPARENT.exec(incoming);
    const traceId = parsed ? parsed[1]! : randomHex(16);
    const flags = parsed ? parsed[3]! : "01";
    const spanId = randomHex(8);
    headers.set("traceparent", `00-${traceId}-${spanId}-${flags}`);
    if (!parsed) headers.delete("tracestate");
    return { requestId, traceId, spanId, parentSpanId: parsed ? parsed[2]! : null, sampled: (parseInt(flags, 16) & 1) === 1 };
  };
}
