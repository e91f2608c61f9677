import type { GatewayRequest } from "../http/exchange.js";
import type { RouteEntry, ValueMatcher } from "./compiled-rule.js";

/** Below this many entries a scan is cheaper than the index lookups. */
const SCAN_LIMIT = 8;

/**
 * The entries of one hostname, in precedence order, indexed by path: Exact paths in a map,
 * PathPrefix entries by their prefix (a request looks up each of its path's element
 * boundaries), RegularExpression entries always tried. Among the entries whose path can match,
 * the first in precedence order whose method, headers and query match wins, exactly as a scan.
 */
export class PathIndexedEntries {
  private readonly exact = new Map<string, number[]>();
  private readonly prefixes = new Map<string, number[]>();
  private readonly always: number[] = [];
  private readonly indexed: boolean;

  constructor(readonly entries: readonly RouteEntry[]) {
    this.indexed = entries.length > SCAN_LIMIT;
    if (!this.indexed) return;
    entries.forEach((e, i) => {
      if (e.path.type === "Exact") push(this.exact, e.path.value, i);
      else if (e.path.type === "PathPrefix") push(this.prefixes, e.path.prefix, i);
      else this.always.push(i);
    });
  }

  match(req: GatewayRequest, query: { params?: URLSearchParams }): RouteEntry | null {
    if (!this.indexed) {
      for (const entry of this.entries) if (entry.path.test(req.path) && rest(entry, req, query)) return entry;
      return null;
    }
    const path = req.path;
    const lists: number[][] = [];
    const exact = this.exact.get(path);
    if (exact !== undefined) lists.push(exact);
    if (this.prefixes.size > 0) {
      // Prefix keys carry no trailing slash ("" for "/"): every element boundary of the path, and the path itself.
      for (let slash = path.indexOf("/"); slash !== -1; slash = path.indexOf("/", slash + 1)) {
        const hit = this.prefixes.get(path.slice(0, slash));
        if (hit !== undefined) lists.push(hit);
      }
      const whole = this.prefixes.get(path);
      if (whole !== undefined) lists.push(whole);
    }
    if (this.always.length > 0) lists.push(this.always);
    const order = lists.length === 1 ? lists[0]! : lists.flat().sort((a, b) => a - b);
    for (const i of order) {
      const entry = this.entries[i]!;
      if (entry.path.test(path) && rest(entry, req, query)) return entry;
    }
    return null;
  }
}

function push(map: Map<string, number[]>, key: string, i: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [i]);
  else list.push(i);
}

/** Method, headers and query: the conditions after the path. */
function rest(entry: RouteEntry, req: GatewayRequest, query: { params?: URLSearchParams }): boolean {
  if (entry.method !== null && entry.method !== req.method) return false;
  if (entry.headers.length > 0 && !headersMatch(entry.headers, req)) return false;
  if (entry.query.length > 0 && !queryMatches(entry.query, (query.params ??= new URLSearchParams(req.query)))) return false;
  return true;
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
