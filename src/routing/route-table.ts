import { GatewayError } from "../http/gateway-error.js";
import type { GatewayRequest } from "../http/exchange.js";
import type { RouteEntry, RouteMatch } from "./compiled-rule.js";
import { hostnameRank } from "./hostnames.js";
import { PathIndexedEntries } from "./path-index.js";
import { DEFAULT_MESH, type MeshOptions } from "./mesh.js";
import { meshTable, type ServiceRoutes } from "./mesh-table.js";

/**
 * Every route's matches, ordered once at compile time and grouped by hostname. An authority that
 * names a Service (a mesh route's parent, or a Service with a Backend) is the mesh's: only that
 * Service's routes apply (mesh-table.ts). Any other authority is ingress traffic. Precedence puts
 * exact hostnames before wildcards (longest first) before routes without hostnames, so a
 * request tries its host's group, then each wildcard group covering it, then the catch-all
 * group; inside a group the path index finds the candidates.
 */
export class RouteTable {
  private readonly exact = new Map<string, PathIndexedEntries>();
  /** Keyed by suffix ".example.com" of the pattern "*.example.com". */
  private readonly wildcard = new Map<string, PathIndexedEntries>();
  private readonly catchAll: PathIndexedEntries;
  /** Every authority host that names a Service, to that Service's routes. */
  private readonly services: ReadonlyMap<string, ServiceRoutes>;
  /** Every route's entries in precedence order (mesh routes included, default routes not). */
  readonly entries: readonly RouteEntry[];
  /** The Services' synthesized default routes, one per Service with a Backend. */
  readonly defaultRoutes: readonly RouteEntry[];

  constructor(entries: readonly RouteEntry[], mesh: MeshOptions = DEFAULT_MESH) {
    const sorted = [...entries].sort(comparePrecedence);
    this.services = meshTable(sorted, mesh);
    this.entries = sorted.filter((e) => e.mesh?.role !== "default");
    this.defaultRoutes = sorted.filter((e) => e.mesh?.role === "default");
    const groups = new Map<string | null, RouteEntry[]>();
    for (const e of this.entries) {
      if (e.mesh !== undefined) continue;
      const group = groups.get(e.hostPattern);
      if (group === undefined) groups.set(e.hostPattern, [e]);
      else group.push(e);
    }
    this.catchAll = new PathIndexedEntries(groups.get(null) ?? []);
    for (const [pattern, group] of groups) {
      if (pattern === null) continue;
      if (pattern.startsWith("*.")) this.wildcard.set(pattern.slice(1), new PathIndexedEntries(group));
      else this.exact.set(pattern, new PathIndexedEntries(group));
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
    const query: { params?: URLSearchParams } = {};
    const host = req.host;
    if (this.services.size > 0) {
      const service = this.services.get(host);
      if (service !== undefined) {
        const entry = service.match(req, query);
        return entry === null ? null : { entry, rule: entry.rule };
      }
    }
    const own = this.exact.get(host);
    let entry = own === undefined ? null : own.match(req, query);
    if (entry === null && this.wildcard.size > 0) {
      for (let dot = host.indexOf("."); dot !== -1 && entry === null; dot = host.indexOf(".", dot + 1)) {
        // A wildcard covers subdomains only: "*.example.com" never matches "example.com" itself.
        if (dot === 0) continue;
        entry = this.wildcard.get(host.slice(dot))?.match(req, query) ?? null;
      }
    }
    entry ??= this.catchAll.match(req, query);
    return entry === null ? null : { entry, rule: entry.rule };
  }

  /** The Service an authority host names, or undefined for ingress traffic. */
  service(host: string): ServiceRoutes | undefined {
    return this.services.get(host);
  }

  /** The ordered entries that may apply to `host` on `port` (explain shows them). */
  candidates(host: string, port: number | null = null): readonly RouteEntry[] {
    const service = this.services.get(host);
    if (service !== undefined) return service.candidates(port);
    const out = [...(this.exact.get(host)?.entries ?? [])];
    for (let dot = host.indexOf("."); dot !== -1; dot = host.indexOf(".", dot + 1)) if (dot > 0) out.push(...(this.wildcard.get(host.slice(dot))?.entries ?? []));
    out.push(...this.catchAll.entries);
    return out;
  }
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
