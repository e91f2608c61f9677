import type { GatewayRequest } from "../http/exchange.js";
import { CidrSet, parseIp } from "../http/cidr.js";
import { GatewayError } from "../http/gateway-error.js";
import { randomHex, randomUuid } from "../http/random-hex.js";

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
  /** Generates request ids; injected for tests. Default: a random (v4) UUID. */
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
  const newRequestId = options.newRequestId ?? randomUuid;
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

  let lastStrip: ReadonlySet<string> | null = null;
  let lastUntrusted: ReadonlySet<string> = HOP_BY_HOP;

  return function cleanRequest(req, strip = HOP_BY_HOP) {
    if (req.malformed) throw req.malformed; // the runtime refused the request head (Host, target)
    const peer = req.clientAddress;
    const fromTrusted = isTrusted(peer);
    if (!fromTrusted && strip !== lastStrip) {
      lastUntrusted = forUntrusted(strip);
      lastStrip = strip;
    }
    const remove = fromTrusted ? strip : lastUntrusted;
    req.peerAddress = peer;
    const seen = rewriteHeaders(req, strip, remove, fromTrusted, underscores);

    // Only a trusted proxy's X-Forwarded-For says anything; the client is the right-most entry
    // that is not one of our trusted proxies (each proxy appends the address it saw).
    if (seen.xff !== undefined) req.clientAddress = rightmostUntrusted(seen.xff, peer, isTrusted);

    const requestId = seen.requestId ?? newRequestId();
    const incoming = seen.traceparent;
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
    const headers = req.headers;
    headers.lines[seen.traceparentAt + 1] = `00-${traceId}-${spanId}-${flags}`;
    if (seen.requestIdAt !== -1) headers.lines[seen.requestIdAt + 1] = requestId;
    // Rare: a trusted proxy's ids that are replaced (position-changing edits go last).
    if (seen.requestId === undefined && seen.requestIdAt === -1) headers.set("x-request-id", requestId);
    if (!parsed && seen.tracestate) headers.delete("tracestate");
    return { requestId, traceId, spanId, parentSpanId: parsed ? parsed[2]! : null, sampled: (parseInt(flags, 16) & 1) === 1, link };
  };
}

/** What the one pass over the request's headers found (values as read after removals). */
interface SeenHeaders {
  /** A trusted peer's X-Forwarded-For lines, joined; undefined from anyone else. */
  readonly xff: string | undefined;
  /** A trusted peer's valid X-Request-Id, kept as it is; undefined when the gateway makes one. */
  readonly requestId: string | undefined;
  /** Where the line for the gateway's request id is, or -1 when it must replace a trusted peer's invalid one. */
  readonly requestIdAt: number;
  /** The first traceparent line's value, and where its (single) line now is. */
  readonly traceparent: string | undefined;
  readonly traceparentAt: number;
  readonly tracestate: boolean;
}

const X_FORWARDED_FOR = "x-forwarded-for";
const X_FORWARDED_PROTO = "x-forwarded-proto";
const X_FORWARDED_HOST = "x-forwarded-host";
const X_REQUEST_ID = "x-request-id";
const TRACEPARENT_NAME = "traceparent";

/**
 * Hop-by-hop, Connection-named, identity and (from untrusted peers) forwarding headers out,
 * underscore names per the action, X-Forwarded-For/-Proto/-Host set, lines for the request id
 * and traceparent the caller fills in: one pass that lower-cases each name once, instead of a
 * pass per header the stage reads or sets. A line the gateway sets takes the place (and name
 * spelling) of its first occurrence; new ones are appended in a fixed order, exactly where
 * `HeaderList.set` would put them.
 */
function rewriteHeaders(req: GatewayRequest, strip: ReadonlySet<string>, remove: ReadonlySet<string>, fromTrusted: boolean, underscores: UnderscoreHeaders): SeenHeaders {
  const lines = req.headers.lines;
  // Connection names more hop-by-hop headers (its first line, as every reader of it here did).
  let named: Set<string> | null = null;
  for (let i = 0; i < lines.length; i += 2) {
    const name = lines[i]!;
    if (name.length === 10 && lowerName(name) === "connection") {
      named = new Set();
      for (const token of lines[i + 1]!.split(",")) named.add(token.trim().toLowerCase());
      break;
    }
  }
  // Kept lines are compacted in place (w never passes the line being read), new ones pushed after.
  let w = 0;
  let xffAt = -1;
  let xff: string | undefined;
  let protoAt = -1;
  let hasHost = false;
  let host: string | undefined;
  let requestIdAt = -1;
  let requestId: string | undefined;
  let traceAt = -1;
  let traceparent: string | undefined;
  let tracestate = false;
  for (let i = 0; i < lines.length; i += 2) {
    const name = lines[i]!;
    const lower = lowerName(name);
    if (underscores !== "allow" && name.indexOf("_") !== -1 && dropsUnderscored(lower, strip, underscores)) continue;
    if (remove.has(name) || remove.has(lower) || (named !== null && named.has(lower))) continue;
    const value = lines[i + 1]!;
    switch (lower) {
      case X_FORWARDED_FOR:
        // One line where the first was: the trusted chain plus this peer (filled in below).
        if (fromTrusted) xff = xff === undefined ? value : `${xff}, ${value}`;
        if (xffAt === -1) {
          xffAt = w;
          w = keep(lines, w, name, "");
        }
        continue;
      case X_FORWARDED_PROTO:
        if (protoAt === -1) protoAt = w;
        else if (!fromTrusted) continue;
        // A trusted proxy's lines stay as they are; anyone else's become the gateway's one.
        w = keep(lines, w, name, fromTrusted ? value : req.scheme);
        continue;
      case X_FORWARDED_HOST:
        hasHost = true; // only a trusted peer's gets here (untrusted: removed above)
        break;
      case X_REQUEST_ID:
        if (fromTrusted) {
          requestId ??= value;
          break;
        }
        if (requestIdAt === -1) {
          requestIdAt = w;
          w = keep(lines, w, name, "");
        }
        continue;
      case TRACEPARENT_NAME:
        if (traceAt === -1) {
          traceparent = value;
          traceAt = w;
          w = keep(lines, w, name, "");
        }
        continue;
      case "tracestate":
        tracestate = true;
        break;
      case "host":
        host ??= value;
        break;
    }
    w = keep(lines, w, name, value);
  }
  lines.length = w;
  // A valid WebSocket handshake is the one upgrade the gateway relays: its two headers go on.
  if (req.upgrade) lines.push("connection", "upgrade", "upgrade", req.upgrade);
  const forwardedFor = xff === undefined ? req.clientAddress : `${xff}, ${req.clientAddress}`;
  if (xffAt === -1) lines.push(X_FORWARDED_FOR, forwardedFor);
  else lines[xffAt + 1] = forwardedFor;
  if (protoAt === -1) lines.push(X_FORWARDED_PROTO, req.scheme);
  if (!hasHost && host !== undefined) lines.push(X_FORWARDED_HOST, host);
  let keptId: string | undefined;
  if (fromTrusted && requestId !== undefined) {
    if (REQUEST_ID.test(requestId)) keptId = requestId; // else: replaced where it is, by the caller
  } else if (requestIdAt === -1) {
    requestIdAt = lines.length;
    lines.push(X_REQUEST_ID, "");
  }
  if (traceAt === -1) {
    traceAt = lines.length;
    lines.push(TRACEPARENT_NAME, "");
  }
  return { xff, requestId: keptId, requestIdAt, traceparent, traceparentAt: traceAt, tracestate };
}

/** Header names arrive in any case; most are already lower case, so that test goes first. */
function lowerName(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return name.toLowerCase();
  }
  return name;
}

function keep(lines: string[], w: number, name: string, value: string): number {
  lines[w] = name;
  lines[w + 1] = value;
  return w + 2;
}

/**
 * Whether a header name with "_" goes (per the configured action): "drop" all; "drop-trusted"
 * those whose dashed form the gateway sets or trusts; "reject" answers 400.
 */
function dropsUnderscored(lower: string, strip: ReadonlySet<string>, action: Exclude<UnderscoreHeaders, "allow">): boolean {
  if (action === "reject") throw new GatewayError("bad_request", `header names with underscores are not accepted (${lower})`);
  if (action === "drop") return true;
  const dashed = lower.replaceAll("_", "-");
  return TRUSTED.has(dashed) || strip.has(dashed) || dashed.startsWith("x-meshgate-") || dashed.startsWith("x-forwarded-") || dashed.startsWith("x-envoy-");
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

