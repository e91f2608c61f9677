import type { GatewayRequest } from "../http/exchange.js";
import { CidrSet, parseIp } from "../http/cidr.js";
import { GatewayError } from "../http/gateway-error.js";
import { randomHex } from "../http/random-hex.js";
import { restoreUpgradeHeaders } from "../http/websocket.js";

export interface HygieneOptions {
  /**
   * Peers whose forwarding headers are believed (x-forwarded-*, x-request-id, and, with
   * `untrustedTraceparent: "restart"`, traceparent). Default: loopback.
   */
  readonly trustedProxies?: readonly string[];
  /**
   * Header names with "_" (Envoy's headers_with_underscores_action). "drop-trusted" (default):
   * drop those whose dashed form is a header the gateway sets or trusts (x_forwarded_for,
   * x_meshgate_principal, ...), which CGI, WSGI, PHP and many frameworks read as the dashed one;
   * "drop": drop all; "reject": answer 400; "allow": forward as they are.
   */
  readonly underscoreHeaders?: UnderscoreHeaders;
  /** A traceparent from a peer outside trustedProxies: "restart" (default) a new trace, linked to theirs; or "continue" it. */
  readonly untrustedTraceparent?: "restart" | "continue";
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

export type UnderscoreHeaders = "drop-trusted" | "drop" | "reject" | "allow";

/** The CLI flag / Workers variable spelling; throws naming `source` on anything else. */
export function parseUnderscoreHeaders(text: string, source: string): UnderscoreHeaders {
  const v = text.trim();
  if (v === "drop-trusted" || v === "drop" || v === "reject" || v === "allow") return v;
  throw new Error(`${source} must be drop-trusted, drop, reject or allow, got "${text}"`);
}

export function parseUntrustedTraceparent(text: string, source: string): "restart" | "continue" {
  const v = text.trim();
  if (v === "restart" || v === "continue") return v;
  throw new Error(`${source} must be restart or continue, got "${text}"`);
}

/**
 * Headers upstream frameworks read to learn the original host, scheme, client or target, or to
 * override the method. Only a trusted proxy may send them; from anyone else they are removed
 * (X-Forwarded-For and X-Forwarded-Proto/Host are then set by the gateway itself).
 */
const FORWARDING = [
  "forwarded",
  "x-forwarded-host",
  "x-forwarded-port",
  "x-forwarded-prefix",
  "x-forwarded-server",
  "x-forwarded-scheme",
  "x-forwarded-ssl",
  "x-forwarded-protocol",
  "front-end-https",
  "x-url-scheme",
  "x-real-ip",
  "x-client-ip",
  "true-client-ip",
  "x-cluster-client-ip",
  "x-original-url",
  "x-original-uri",
  "x-original-host",
  "x-rewrite-url",
  "x-http-method-override",
  "x-http-method",
  "x-method-override",
];

/** Headers the gateway sets, trusts or verifies: an underscore spelling of one is dropped by default. */
const TRUSTED = new Set([...FORWARDING, "host", "x-forwarded-for", "x-forwarded-proto", "x-request-id", "traceparent", "tracestate", "x-forwarded-client-cert", "authorization", "proxy-authorization", "cookie", "x-api-key", "content-length", "transfer-encoding", "content-type"]);

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
  /** An untrusted caller's trace context, not continued but kept as a span link. */
  readonly link: { readonly traceId: string; readonly spanId: string } | null;
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

  const underscores = options.underscoreHeaders ?? "drop-trusted";
  const continueUntrusted = options.untrustedTraceparent === "continue";
  // Per snapshot strip set: the same plus the forwarding headers, for peers that are not trusted.
  const untrustedStrip = new WeakMap<ReadonlySet<string>, ReadonlySet<string>>();
  const forUntrusted = (strip: ReadonlySet<string>) => {
    let set = untrustedStrip.get(strip);
    if (set === undefined) untrustedStrip.set(strip, (set = new Set([...strip, ...FORWARDING])));
    return set;
  };

  return function cleanRequest(req, strip = HOP_BY_HOP) {
    if (req.malformed) throw req.malformed; // the runtime refused the request head (Host, target)
    const headers = req.headers;
    const peer = req.clientAddress;
    const fromTrusted = isTrusted(peer);
    if (underscores !== "allow") dropUnderscored(req, strip, underscores);
    const remove = fromTrusted ? strip : forUntrusted(strip);
    const connection = headers.get("connection");
    if (connection !== undefined) {
      const named = new Set(remove);
      for (const token of connection.split(",")) named.add(token.trim().toLowerCase());
      headers.deleteAll(named);
    } else {
      headers.deleteAll(remove);
    }
    // A valid WebSocket handshake is the one upgrade the gateway relays: its two headers go on.
    if (req.upgrade) restoreUpgradeHeaders(headers, req.upgrade);

    // Only a trusted proxy's X-Forwarded-For says anything; the client is the right-most entry
    // that is not one of our trusted proxies (each proxy appends the address it saw).
    req.peerAddress = peer;
    const xff = fromTrusted ? headers.getJoined("x-forwarded-for") : undefined;
    if (xff !== undefined) req.clientAddress = rightmostUntrusted(xff, peer, isTrusted);
    headers.set("x-forwarded-for", xff === undefined ? peer : `${xff}, ${peer}`);
    if (!fromTrusted || !headers.has("x-forwarded-proto")) headers.set("x-forwarded-proto", req.scheme);
    if (!fromTrusted || !headers.has("x-forwarded-host")) {
      const host = headers.get("host");
      if (host !== undefined) headers.set("x-forwarded-host", host);
    }

    let requestId = fromTrusted ? headers.get("x-request-id") : undefined;
    if (requestId === undefined || !REQUEST_ID.test(requestId)) {
      requestId = newRequestId();
      headers.set("x-request-id", requestId);
    }

    const incoming = headers.get("traceparent");
    let parsed = incoming === undefined ? null : TRACEPARENT.exec(incoming);
    let link: RequestIds["link"] = null;
    if (parsed && !fromTrusted && !continueUntrusted) {
      // Anyone can send a traceparent: continuing it lets a client join, sample or flood a trace
      // of ours. A new trace starts; theirs stays findable as a link on the server span.
      link = { traceId: parsed[1]!, spanId: parsed[2]! };
      parsed = null;
    }
    const traceId = parsed ? parsed[1]! : randomHex(16);
    const flags = parsed ? parsed[3]! : "01";
    const spanId = randomHex(8);
    headers.set("traceparent", `00-${traceId}-${spanId}-${flags}`);
    if (!parsed) headers.delete("tracestate");
    return { requestId, traceId, spanId, parentSpanId: parsed ? parsed[2]! : null, sampled: (parseInt(flags, 16) & 1) === 1, link };
  };
}

/** Header names with "_" per the configured action; one scan of the names, work only when one has "_". */
function dropUnderscored(req: GatewayRequest, strip: ReadonlySet<string>, action: Exclude<UnderscoreHeaders, "allow">): void {
  const lines = req.headers.lines;
  let drop: Set<string> | null = null;
  for (let i = 0; i < lines.length; i += 2) {
    const name = lines[i]!;
    if (name.indexOf("_") === -1) continue;
    const lower = name.toLowerCase();
    if (action === "reject") throw new GatewayError("bad_request", `header names with underscores are not accepted (${lower})`);
    const dashed = lower.replaceAll("_", "-");
    if (action === "drop" || TRUSTED.has(dashed) || strip.has(dashed) || dashed.startsWith("x-meshgate-") || dashed.startsWith("x-forwarded-") || dashed.startsWith("x-envoy-")) (drop ??= new Set()).add(lower);
  }
  if (drop !== null) req.headers.deleteAll(drop);
}

/**
 * The client behind trusted proxies: walking X-Forwarded-For from the right, the first entry
 * that is not a trusted proxy. An entry that is not an address stops the walk at the proxy that
 * wrote it; when every entry is trusted, the left-most one.
 */
function rightmostUntrusted(xff: string, peer: string, isTrusted: (address: string) => boolean): string {
  const entries = xff.split(",");
  let last = peer;
  for (let i = entries.length - 1; i >= 0; i--) {
    const address = bareAddress(entries[i]!.trim());
    if (address === null) return last;
    if (!isTrusted(address)) return address;
    last = address;
  }
  return last;
}

/** "1.2.3.4", "1.2.3.4:80", "::1", "[::1]:80" → the address; anything else → null. */
function bareAddress(entry: string): string | null {
  let address = entry;
  if (address.startsWith("[")) {
    const end = address.indexOf("]");
    if (end === -1) return null;
    address = address.slice(1, end);
  } else if (address.indexOf(":") !== -1 && address.indexOf(":") === address.lastIndexOf(":")) {
    address = address.slice(0, address.indexOf(":")); // IPv4 with a port
  }
  return parseIp(address) === null ? null : address.toLowerCase();
}

