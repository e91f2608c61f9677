

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
