import { GatewayError } from "./gateway-error.js";
import { parseAuthority, type Authority } from "./authority.js";

/** Where a request goes, read from its request line and Host header(s). */
export interface RequestHead extends Authority {
  /** The authority as the upstream gets it in Host: the Host header, or an absolute-form target's. */
  readonly authority: string;
  /** Starts with "/"; no query. */
  readonly path: string;
  /** "" or "?...". */
  readonly query: string;
}

const ABSOLUTE = /^https?:\/\//i;

/**
 * Reads the request target (origin-form or absolute-form) and the Host header lines of an
 * HTTP/1.x request, refusing every spelling that two parsers could read differently: a
 * fragment (never sent by a correct client; "/admin#x" is "/admin" to many frameworks), no Host,
 * more than one Host, a Host that is not a plain authority, an absolute-form target whose
 * authority is not one or disagrees with Host. Throws `bad_request`.
 */
export function parseRequestHead(target: string, hosts: readonly string[]): RequestHead {
  if (target.includes("#")) throw new GatewayError("bad_request", "fragment (#) in request target");
  if (hosts.length > 1) throw new GatewayError("bad_request", "more than one Host header");
  const hostHeader = hosts[0];
  if (target.charCodeAt(0) === 0x2f /* / */) {
    if (hostHeader === undefined) throw new GatewayError("bad_request", "request has no Host header");
    return head(hostAuthority(hostHeader), hostHeader, target);
  }
  if (!ABSOLUTE.test(target)) throw new GatewayError("bad_request", "request target must be a path or an absolute http(s) URL");
  // absolute-form (a client configured to use us as a proxy)
  const start = target.indexOf("//") + 2;
  let end = start;
  while (end < target.length && target[end] !== "/" && target[end] !== "?") end++;
  const authority = target.slice(start, end);
  const parsed = parseAuthority(authority);
  if (parsed === null) throw new GatewayError("bad_request", "request target's authority is not a valid host[:port]");
  if (hostHeader !== undefined) {
    const host = hostAuthority(hostHeader);
    const defaultPort = target.charCodeAt(4) === 0x73 || target.charCodeAt(4) === 0x53 ? 443 : 80;
    if (host.host !== parsed.host || (host.port ?? defaultPort) !== (parsed.port ?? defaultPort)) throw new GatewayError("bad_request", "Host header disagrees with the request target");
  }
  const rest = target.slice(end);
  return head(parsed, authority, rest.startsWith("/") ? rest : `/${rest}`);
}

/** The Host header of a request whose target names no authority (Workers, HTTP/2 :authority alike). */
export function hostAuthority(value: string): Authority {
  const parsed = parseAuthority(value);
  if (parsed === null) throw new GatewayError("bad_request", "Host header is not a valid host[:port]");
  return parsed;
}

// One object literal, no spreads: this runs for every request.
function head(at: Authority, authority: string, target: string): RequestHead {
  const q = target.indexOf("?");
  return { host: at.host, port: at.port, authority, path: q === -1 ? target : target.slice(0, q), query: q === -1 ? "" : target.slice(q) };
}
