import { GatewayError } from "../http/gateway-error.js";
import type { GatewayRequest } from "../http/exchange.js";
import type { RouteEntry, RouteMatch, ValueMatcher } from "./compiled-rule.js";
import { hostnameRank, wildcardCovers } from "./hostnames.js";

/**
 * Every route's matches, ordered once at compile time, and indexed by hostname so a
 * request only scans the entries that can apply to its host.
 */
export class RouteTable {
  private readonly exact = new Map<string, readonly RouteEntry[]>();
  private readonly wildcard = new Map<string, readonly RouteEntry[]>();
  private readonly catchAll: readonly RouteEntry[];
  readonly entries: readonly RouteEntry[];

  constructor(entries: readonly RouteEntry[]) {
    this.entries = [...entries].sort(comparePrecedence);
    this.catchAll = this.entries.filter((e) => e.hostPattern === null);
    const exactHosts = new Set<string>();
    const wildcards = new Set<string>();
    for (const e of this.entries) {
      if (e.hostPattern === null) continue;
      if (e.hostPattern.startsWith("*.")) wildcards.add(e.hostPattern);
      else exactHosts.add(e.hostPattern);
    }
    for (const host of exactHosts) this.exact.set(host, this.candidatesFor(host));
    // Keyed by suffix ".example.com": every host under it sees these entries.
    for (const pattern of wildcards) {
      const probe = `x${pattern.slice(1)}`;
      this.wildcard.set(pattern.slice(1), this.candidatesFor(probe));
    }
  }

  /** The route stage: the request's match, or the 404 `no_route` answer. */
  route(req: GatewayRequest): RouteMatch {
    const match = this.match(req);
    if (match === null) throw new GatewayError("no_route", `no route for ${req.method} ${req.host}${req.path}`);
    return match;
  }

  /** First entry, in precedence order, that matches the request; null means 404. */
  match(req: GatewayRequest): RouteMatch | null {
    const candidates = this.candidates(req.host);
    if (candidates.length === 0) return null;
    let query: URLSearchParams | undefined;
    for (const entry of candidates) {
      if (entry.method !== null && entry.method !== req.method) continue;
      if (!entry.path.test(req.path)) continue;
      if (entry.headers.length > 0 && !headersMatch(entry.headers, req)) continue;
      if (entry.query.length > 0) {
        query ??= new URLSearchParams(req.query);
        if (!queryMatches(entry.query, query)) continue;
      }
      return { entry, rule: entry.rule };
    }
    return null;
  }

  /** The ordered entries that may apply to `host` (used by `match` and by explain). */
  candidates(host: string): readonly RouteEntry[] {
    const exact = this.exact.get(host);
    if (exact !== undefined) return exact;
    if (this.wildcard.size > 0) {
      for (let dot = host.indexOf("."); dot !== -1; dot = host.indexOf(".", dot + 1)) {
        const hit = this.wildcard.get(host.slice(dot));
        if (hit !== undefined) return hit;
      }
    }
    return this.catchAll;
  }

  private candidatesFor(host: string): RouteEntry[] {
    return this.entries.filter(
      (e) =>
        e.hostPattern === null ||
        e.hostPattern === host ||
        (e.hostPattern.startsWith("*.") && wildcardCovers(e.hostPattern, host)),
    );
  }
}

function headersMatch(matchers: readonly ValueMatcher[], req: GatewayRequest): boolean {
  for (const m of matchers) if (!m.test(req.headers.getJoined(m.name))) return false;
  return true;
}

function queryMatches(matchers: readonly ValueMatcher[], query: URLSearchParams): boolean {
  // Gateway API: only the first occurrence of a repeated parameter is considered.
  for (const m of matchers) if (!m.test(query.get(m.name) ?? undefined)) return false;
  return true;
}

const PATH_TYPE_RANK = { Exact: 3, RegularExpression: 2, PathPrefix: 1 } as const;

/** Gateway API HTTPRoute precedence; negative when `a` wins. */
export function comparePrecedence(a: RouteEntry, b: RouteEntry): number {
  return (
    hostnameRank(b.hostPattern) - hostnameRank(a.hostPattern) ||
    PATH_TYPE_RANK[b.path.type] - PATH_TYPE_RANK[a.path.type] ||
    pathLength(b) - pathLength(a) ||
    Number(b.method !== null) - Number(a.method !== null) ||
    b.headers.length - a.headers.length ||
    b.query.length - a.query.length ||
    compareText(a.age.created, b.age.created) ||
    compareText(a.age.key, b.age.key) ||
    a.age.rule - b.age.rule ||
    a.age.match - b.age.match
  );
}

function pathLength(e: RouteEntry): number {
  return e.path.type === "PathPrefix" ? e.path.prefix.length : e.path.value.length;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
