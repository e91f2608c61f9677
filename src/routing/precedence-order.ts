import type { RouteEntry } from "./compiled-rule.js";
import { hostnameRank } from "./hostnames.js";

/**
 * `entries` in Gateway API precedence order, ties kept in the order given: exactly
 * `[...entries].sort(comparePrecedence)` (a stable sort). With `previous` (the order of the last
 * table), the entries found there are taken in that order, checked to still be in order (a
 * route's entries can tie with another's and the given order decide), and only the new ones are
 * sorted and merged in: a reload that changed ten routes of ten thousand compares about ten
 * thousand pairs instead of sorting them all again on the thread that serves requests. Yields
 * between its passes (RouteTable.build lets the event loop run there).
 */
export function* precedenceOrder(entries: readonly RouteEntry[], previous?: readonly RouteEntry[]): Generator<void, RouteEntry[]> {
  const position = new Map<RouteEntry, number>();
  entries.forEach((e, i) => position.set(e, i));
  // The same entry twice has no one position: sort as given.
  if (position.size !== entries.length) return [...entries].sort(comparePrecedence);
  // Precedence, then the given order: a total order, so any correct sort or merge gives the same list.
  const before = (a: RouteEntry, b: RouteEntry) => comparePrecedence(a, b) || position.get(a)! - position.get(b)!;
  if (previous === undefined || previous.length === 0) return [...entries].sort(before);
  yield;
  const kept = previous.filter((e) => position.has(e));
  yield;
  for (let i = 1; i < kept.length; i++) if (before(kept[i - 1]!, kept[i]!) > 0) return [...entries].sort(before);
  yield;
  const known = new Set(kept);
  const fresh = entries.filter((e) => !known.has(e)).sort(before);
  if (fresh.length === 0) return kept;
  yield;
  const out: RouteEntry[] = new Array<RouteEntry>(entries.length);
  let k = 0;
  let f = 0;
  for (let o = 0; o < out.length; o++) out[o] = f === fresh.length || (k < kept.length && before(kept[k]!, fresh[f]!) < 0) ? kept[k++]! : fresh[f++]!;
  return out;
}

const PATH_TYPE_RANK = { Exact: 3, RegularExpression: 2, PathPrefix: 1 } as const;

/** Gateway API HTTPRoute precedence; negative when `a` wins. */
export function comparePrecedence(a: RouteEntry, b: RouteEntry): number {
  return (
    hostnameRank(b.hostPattern) - hostnameRank(a.hostPattern) ||
    // GRPCRoute matches only gRPC requests; for those it goes before HTTPRoutes of the same host rank.
    Number(b.grpc !== undefined) - Number(a.grpc !== undefined) ||
    (a.grpc !== undefined && b.grpc !== undefined ? compareGrpc(a, b) : compareHttp(a, b)) ||
    compareText(a.age.created, b.age.created) ||
    compareText(a.age.key, b.age.key) ||
    a.age.rule - b.age.rule ||
    a.age.match - b.age.match
  );
}

/** HTTPRoute: exact > regex > prefix, longer path, method, more headers, more query matches. */
function compareHttp(a: RouteEntry, b: RouteEntry): number {
  return (
    PATH_TYPE_RANK[b.path.type] - PATH_TYPE_RANK[a.path.type] ||
    pathLength(b) - pathLength(a) ||
    Number(b.method !== null) - Number(a.method !== null) ||
    b.headers.length - a.headers.length ||
    b.query.length - a.query.length
  );
}

/** GRPCRoute (Gateway API): most characters in the matching service, then method, then more header matches. */
function compareGrpc(a: RouteEntry, b: RouteEntry): number {
  return b.grpc!.serviceChars - a.grpc!.serviceChars || b.grpc!.methodChars - a.grpc!.methodChars || b.headers.length - a.headers.length;
}

function pathLength(e: RouteEntry): number {
  return e.path.type === "PathPrefix" ? e.path.prefix.length : e.path.value.length;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
