/** Lower case, no port, no trailing dot: the form hostnames are compared in. */
export function normalizeHost(authority: string): { host: string; port: number | null } {
  let host = authority;
  let port: number | null = null;
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    const rest = end === -1 ? "" : host.slice(end + 1);
    host = end === -1 ? host : host.slice(0, end + 1);
    if (rest.startsWith(":")) port = toPort(rest.slice(1));
  } else {
    const colon = host.lastIndexOf(":");
    if (colon !== -1) {
      port = toPort(host.slice(colon + 1));
      host = host.slice(0, colon);
    }
  }
  if (host.endsWith(".")) host = host.slice(0, -1);
  return { host: host.toLowerCase(), port };
}

function toPort(text: string): number | null {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : null;
}

/**
 * Gateway API hostname specificity: more characters in a non-wildcard hostname first,
 * then more characters overall; a route without hostnames matches everything, last.
 */
export function hostnameRank(pattern: string | null): number {
  if (pattern === null) return 0;
  if (pattern.startsWith("*.")) return pattern.length;
  return 100_000 + pattern.length;
}

/** Does wildcard pattern `*.example.com` cover `host`? (Not `example.com` itself.) */
export function wildcardCovers(pattern: string, host: string): boolean {
  const suffix = pattern.slice(1); // ".example.com"
  return host.length > suffix.length && host.endsWith(suffix);
}
