import { parseIp } from "./cidr.js";

/** A request's authority as routing compares it: lower case, no trailing dot, port apart. */
export interface Authority {
  readonly host: string;
  readonly port: number | null;
}

// RFC 3986 reg-name restricted to its unreserved characters: no DNS name or IPv4 address needs
// more, and every character left out (userinfo "@", "/", "?", "#", "\", "%", sub-delims such as
// "," and ";") is one that some URL parser or framework reads differently from us.
const REG_NAME = /^[a-z0-9_~-]+(?:\.[a-z0-9_~-]+)*\.?$/i;
const PORT = /^[0-9]{1,5}$/;

/**
 * Parses a Host header (or an absolute-form target's authority) strictly: reg-name, IPv4 or a
 * bracketed IPv6 literal, with an optional port 1-65535. Anything else is null, and the request
 * answers 400: a Host the gateway routes one way and an upstream's URL parser reads another way
 * would let a request reach a route's upstream without that route's policy.
 */
export function parseAuthority(text: string): Authority | null {
  if (text.length === 0 || text.length > 270) return null;
  let host: string;
  let portText: string | null = null;
  if (text.charCodeAt(0) === 0x5b /* [ */) {
    const end = text.indexOf("]");
    if (end === -1) return null;
    const literal = text.slice(1, end);
    // No zone ids (they need "%25") and no IPvFuture: neither is routable through a gateway.
    if (!/^[0-9a-f:.]+$/i.test(literal) || parseIp(literal)?.v6 !== true) return null;
    host = `[${literal.toLowerCase()}]`;
    const rest = text.slice(end + 1);
    if (rest !== "") {
      if (rest.charCodeAt(0) !== 0x3a /* : */) return null;
      portText = rest.slice(1);
    }
  } else {
    const colon = text.indexOf(":");
    if (colon !== -1) {
      portText = text.slice(colon + 1);
      text = text.slice(0, colon);
    }
    if (!REG_NAME.test(text)) return null;
    host = text.toLowerCase();
    if (host.endsWith(".")) host = host.slice(0, -1);
  }
  let port: number | null = null;
  if (portText !== null) {
    if (!PORT.test(portText)) return null;
    port = Number(portText);
    if (port === 0 || port > 65535) return null;
  }
  return { host, port };
}

/** The same authority, however spelled (case, trailing dot, default port left to the caller)? */
export function sameAuthority(a: Authority, b: Authority): boolean {
  return a.host === b.host && a.port === b.port;
}
