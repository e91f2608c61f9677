import type { GatewayRequest } from "../http/exchange.js";
import type { RouteEntry } from "./compiled-rule.js";
import { serviceAuthorities, type MeshOptions } from "./mesh.js";
import { PathIndexedEntries } from "./path-index.js";

/** The HTTP default port: an authority without a port addresses port 80 of a Service. */
const NO_PORT = 80;

/**
 * One Service's routing, decided per port at compile time (GAMMA): on a port some mesh route
 * claims, only those routes apply — consumer routes of this gateway's namespace replace the
 * producer routes there — and a request none of them matches is refused (404), never sent
 * elsewhere. On a port no route claims, the default route (when the Service has a Backend).
 */
export class ServiceRoutes {
  constructor(
    /** "namespace/name". */
    readonly service: string,
    /** Ports some parentRef names. */
    private readonly ports: ReadonlyMap<number, PathIndexedEntries>,
    /** Every other port: routes whose parentRef names no port. */
    private readonly anyPort: PathIndexedEntries | null,
    /** Default routes: for any port (key null), or one per Service port (DNS-discovered Services). */
    private readonly fallbacks: ReadonlyMap<number | null, RouteEntry>,
  ) {}

  /** The default route on `port`, if the Service has one there. */
  fallback(port: number | null): RouteEntry | null {
    return this.fallbacks.get(port ?? NO_PORT) ?? this.fallbacks.get(null) ?? null;
  }

  match(req: GatewayRequest, query: { params?: URLSearchParams }): RouteEntry | null {
    const group = this.ports.get(req.hostPort ?? NO_PORT) ?? this.anyPort;
    return group === null ? this.fallback(req.hostPort) : group.match(req, query);
  }

  /** The ordered entries that may apply on `port` (explain shows them). */
  candidates(port: number | null): readonly RouteEntry[] {
    const group = this.ports.get(port ?? NO_PORT) ?? this.anyPort;
    const fallback = this.fallback(port);
    return group === null ? (fallback === null ? [] : [fallback]) : group.entries;
  }
}

/**
 * Mesh entries (in precedence order) into a map from every authority host that names a Service
 * (`S.N.svc.<domain>`, `S.N.svc`, `S.N`, `S`) to that Service's routes. Many spellings share one
 * ServiceRoutes, so a request pays one map lookup whatever form its caller used.
 */
export function meshTable(entries: readonly RouteEntry[], options: MeshOptions): Map<string, ServiceRoutes> {
  const byService = new Map<string, { routes: RouteEntry[]; fallbacks: Map<number | null, RouteEntry> }>();
  for (const e of entries) {
    const mesh = e.mesh;
    if (mesh === undefined) continue;
    let s = byService.get(mesh.service);
    if (s === undefined) byService.set(mesh.service, (s = { routes: [], fallbacks: new Map() }));
    if (mesh.role === "default") s.fallbacks.set(mesh.port, e);
    else s.routes.push(e);
  }
  const out = new Map<string, ServiceRoutes>();
  for (const [service, { routes, fallbacks }] of byService) {
    const slash = service.indexOf("/");
    const table = serviceRoutes(service, routes, fallbacks);
    for (const host of serviceAuthorities(service.slice(0, slash), service.slice(slash + 1), options)) out.set(host, table);
  }
  return out;
}

function serviceRoutes(service: string, routes: readonly RouteEntry[], fallback: ReadonlyMap<number | null, RouteEntry>): ServiceRoutes {
  const consumer = routes.filter((e) => e.mesh!.role === "consumer");
  const producer = routes.filter((e) => e.mesh!.role === "producer");
  // The routes that claim `port` (null: ports no parentRef names): consumer routes, if any claim it, else producer routes.
  const claim = (port: number | null): RouteEntry[] => {
    const on = (list: readonly RouteEntry[]) => list.filter((e) => e.mesh!.port === null || e.mesh!.port === port);
    const mine = on(consumer);
    return mine.length > 0 ? mine : on(producer);
  };
  const ports = new Map<number, PathIndexedEntries>();
  for (const e of routes) {
    const port = e.mesh!.port;
    if (port !== null && !ports.has(port)) ports.set(port, new PathIndexedEntries(claim(port)));
  }
  const rest = claim(null);
  return new ServiceRoutes(service, ports, rest.length > 0 ? new PathIndexedEntries(rest) : null, fallback);
}
