import { GatewayError } from "../http/gateway-error.js";
import type { GatewayRequest } from "../http/exchange.js";
import type { RouteEntry, RouteMatch } from "./compiled-rule.js";
import { PathIndexedEntries } from "./path-index.js";
import { precedenceOrder } from "./precedence-order.js";

export { comparePrecedence } from "./precedence-order.js";
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
/** The parts of a table, as built (possibly a slice at a time) before the table exists. */
interface TableParts {
  readonly sorted: readonly RouteEntry[];
  readonly services: ReadonlyMap<string, ServiceRoutes>;
  readonly entries: readonly RouteEntry[];
  readonly defaultRoutes: readonly RouteEntry[];
  readonly exact: Map<string, PathIndexedEntries>;
  readonly wildcard: Map<string, PathIndexedEntries>;
  readonly catchAll: PathIndexedEntries;
}

/** Entries handled between two yields of a table build: a few ms on this machine. */
const SLICE = 2_000;

export class RouteTable {
  private readonly exact: Map<string, PathIndexedEntries>;
  /** Keyed by suffix ".example.com" of the pattern "*.example.com". */
  private readonly wildcard: Map<string, PathIndexedEntries>;
  private readonly catchAll: PathIndexedEntries;
  /** Every authority host that names a Service, to that Service's routes. */
  private readonly services: ReadonlyMap<string, ServiceRoutes>;
  /** Every route's entries in precedence order (mesh routes included, default routes not). */
  readonly entries: readonly RouteEntry[];
  /** The Services' synthesized default routes, one per Service with a Backend. */
  readonly defaultRoutes: readonly RouteEntry[];
  /** Every entry given, in precedence order: what the next table built from this one starts from. */
  private readonly sorted: readonly RouteEntry[];

  /**
   * `previous`: the table of the last snapshot. Entries it holds (a reload reuses the compiled
   * routes of unchanged documents) keep its order and its hostname groups, so a reload that
   * changed a few routes sorts only those: the order is the one a full sort gives (precedence-order.ts).
   */
  constructor(entries: readonly RouteEntry[], mesh: MeshOptions = DEFAULT_MESH, previous?: RouteTable) {
    const build = RouteTable.parts(entries, mesh, previous);
    let step = build.next();
    while (step.done !== true) step = build.next();
    const parts = step.value;
    this.sorted = parts.sorted;
    this.services = parts.services;
    this.entries = parts.entries;
    this.defaultRoutes = parts.defaultRoutes;
    this.exact = parts.exact;
    this.wildcard = parts.wildcard;
    this.catchAll = parts.catchAll;
  }

  /**
   * The same table, built a slice at a time: `breathe` runs between slices (compile-slices.ts), so
   * the thread that serves requests is never held for the whole build of ten thousand entries.
   */
  static async build(entries: readonly RouteEntry[], mesh: MeshOptions = DEFAULT_MESH, previous?: RouteTable, breathe: () => Promise<void> | undefined = () => undefined): Promise<RouteTable> {
    const build = RouteTable.parts(entries, mesh, previous);
    let step = build.next();
    while (step.done !== true) {
      const pause = breathe();
      if (pause !== undefined) await pause;
      step = build.next();
    }
    return Object.assign(Object.create(RouteTable.prototype) as RouteTable, step.value);
  }

  /** Builds the parts, yielding between slices. */
  private static *parts(entries: readonly RouteEntry[], mesh: MeshOptions, previous: RouteTable | undefined): Generator<void, TableParts> {
    const sorted = yield* precedenceOrder(entries, previous?.sorted);
    yield;
    const services = meshTable(sorted, mesh);
    const own = sorted.filter((e) => e.mesh?.role !== "default");
    const defaultRoutes = sorted.filter((e) => e.mesh?.role === "default");
    const groups = new Map<string | null, RouteEntry[]>();
    let n = 0;
    for (const e of own) {
      if (++n % SLICE === 0) yield;
      if (e.mesh !== undefined) continue;
      const group = groups.get(e.hostPattern);
      if (group === undefined) groups.set(e.hostPattern, [e]);
      else group.push(e);
    }
    // A group whose entries did not change keeps its index (ten thousand hostnames are ten thousand groups).
    const index = (group: readonly RouteEntry[], before: PathIndexedEntries | undefined) => (before !== undefined && sameEntries(before.entries, group) ? before : new PathIndexedEntries(group));
    const catchAll = index(groups.get(null) ?? [], previous?.catchAll);
    const exact = new Map<string, PathIndexedEntries>();
    const wildcard = new Map<string, PathIndexedEntries>();
    for (const [pattern, group] of groups) {
      if (++n % SLICE === 0) yield;
      if (pattern === null) continue;
      if (pattern.startsWith("*.")) wildcard.set(pattern.slice(1), index(group, previous?.wildcard.get(pattern.slice(1))));
      else exact.set(pattern, index(group, previous?.exact.get(pattern)));
    }
    return { sorted, services, entries: own, defaultRoutes, exact, wildcard, catchAll };
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

function sameEntries(a: readonly RouteEntry[], b: readonly RouteEntry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
