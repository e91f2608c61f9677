import { PolicyError, type PolicyIssue } from "../policy/issues.js";
import type { ParseOptions } from "../policy/parse.js";
import type { PreparedPolicies } from "./prepare.js";
import type { CompiledBackend } from "../upstream/compiled-backend.js";
import type { Snapshot, SnapshotSource } from "./snapshot.js";
import type { HTTPRoute } from "../routing/httproute.js";
import type { PolicySet } from "./validate.js";
import { compileBackend } from "../upstream/compile-backend.js";
import { compileRoute, type RuleContext } from "../routing/compile-rule.js";
import { trafficLookup } from "../resilience/compile-traffic.js";
import { compileSecurity } from "../identity/compile-security.js";
import { compileRateLimits } from "../ratelimit/compile-rate-limit.js";
import { attachRoute, type RouteAttachment } from "../routing/gateway-attachment.js";
import { RouteTable } from "../routing/route-table.js";
import type { RouteEntry } from "../routing/compiled-rule.js";
import { ServicePorts } from "../routing/service-ports.js";
import { routeKindOf } from "../policy/route-kind.js";
import type { ServiceDiscovery } from "../upstream/discovery.js";
import { destinationLookup, knownServices } from "./destinations.js";
import { DEFAULT_MESH, isServiceName, type MeshOptions } from "../routing/mesh.js";
import { meshParents } from "../routing/mesh-attachment.js";
import { defaultRoute } from "../routing/default-route.js";
import { warnOverlaps } from "../routing/route-overlap.js";
import type { CompileMemo } from "./compile-memo.js";
import { BackendPolicies } from "./backend-policies.js";

// Resolving and compiling validated policies, apart from parsing them: the serving thread of
// `meshgate serve` compiles what its policy worker prepared and so never loads the YAML parser,
// the document schemas or the config stores (compile-snapshot.ts adds parsing on top).

const NO_GATEWAYS: ReadonlySet<string> = new Set();

/** What a compile is told about the runtime it compiles for. */
export interface CompileOptions {
  /** Finds Services that have no Backend document (`serve --service-discovery dns`); none by default. */
  readonly discovery?: ServiceDiscovery | null;
  /** How long a compile waits for discovery's first answers, so the first requests have endpoints. Default 2 s. */
  readonly discoveryWaitMs?: number;
  /**
   * Backend endpoints that are Workers service bindings (`binding:` instead of `url`): `allow`
   * (Workers, the default), `warn` (validate and publish, which run on Node for either runtime),
   * `refuse` (the Node gateway, which has no bindings to call).
   */
  readonly serviceBindings?: "allow" | "warn" | "refuse";
  /** The gateway's namespace and cluster domain, which mesh authorities are read against. */
  readonly mesh?: MeshOptions;
  /**
   * GRPCRoutes and HTTP/2 Backends (`appProtocol: kubernetes.io/h2c` or `grpc`): `refuse` (the
   * default: Workers and `createGateway()` reach upstreams with fetch, which has no h2c and no
   * response trailers), `warn` (validate and publish), `allow` (the Node gateway).
   */
  readonly http2Upstreams?: "allow" | "warn" | "refuse";
  /** YAML text among the sources: `parse` (the default) or `refuse` (Workers: see ParseOptions). */
  readonly yaml?: ParseOptions["yaml"];
}

/**
 * Lets the compiling thread breathe: called between routes, it resolves at once or, after a
 * few milliseconds of work, after the event loop has served what waited (see compile-slices.ts).
 */
export type CompileYield = () => Promise<void> | undefined;

/** Validated policies into an immutable Snapshot: resolve references and compile. `memo`: what the last compile of the same holder kept (compile-memo.ts). */
export async function compilePrepared(prepared: PreparedPolicies, source: SnapshotSource, version?: string, options: CompileOptions = {}, breathe: CompileYield = () => undefined, memo?: CompileMemo): Promise<Snapshot> {
  const mesh = options.mesh ?? DEFAULT_MESH;
  const set = prepared.set;
  const issues = [...prepared.parseIssues, ...set.issues, ...bindingIssues(set.backends, options.serviceBindings ?? "allow"), ...http2Issues(set, options.http2Upstreams ?? "refuse")];
  const exists = knownServices(set);
  // BackendTrafficPolicy / BackendTLSPolicy settings of each Service, folded into its Backend.
  const backendPolicies = new BackendPolicies(set, exists, issues);
  const backendDocs = set.backends.map((b) => backendPolicies.apply(b));
  if (issues.some((i) => i.severity === "error")) throw new PolicyError(issues);

  const backends = new Map<string, CompiledBackend>();
  for (const b of backendDocs) {
    const compiled = memo !== undefined ? memo.backend(b.doc) : compileBackend(b.doc);
    backends.set(compiled.key, compiled);
  }
  const entries: RouteEntry[] = [];
  let rules = 0;
  // In route order, as the compile loop walks them; the map only for policies asking by route.
  const attachments: (RouteAttachment | null)[] = set.routes.map((r) => attachRoute(r, set.gateways, issues));
  let byDoc: Map<HTTPRoute, RouteAttachment | null> | null = null;
  const attachmentOf = (route: HTTPRoute) => (byDoc ??= new Map(set.routes.map((r, i) => [r.doc, attachments[i]!]))).get(route);
  // With Gateway documents, a route attached to none (a mesh route) gets no Gateway-wide policy.
  const gatewaysOf = (route: HTTPRoute) => attachmentOf(route)?.gateways ?? (set.gateways.length > 0 ? NO_GATEWAYS : null);
  const traffic = trafficLookup(set.trafficPolicies, set.routes, issues);
  const security = compileSecurity(set.securityPolicies, set.routes, issues, gatewaysOf);
  const rateLimit = compileRateLimits(set.rateLimitPolicies, set.routes, issues, gatewaysOf);
  const discovery = options.discovery ?? null;
  const services = new ServicePorts(set.services, backendDocs, discovery, (doc) => backendPolicies.forDiscovered(doc), memo?.backendPort);
  const destination = destinationLookup(set, security.byPolicy, exists, issues);
  const run = memo?.routes.begin();
  // One context per route kind, shared by every route of that kind.
  const httpCtx: RuleContext = { backends, services, issues, traffic, security: security.lookup, rateLimit, destination };
  // A GRPCRoute's backends are always reached over HTTP/2 (h2c for http:// endpoints).
  const grpcCtx: RuleContext = { ...httpCtx, protocol: "h2" };
  for (let i = 0; i < set.routes.length; i++) {
    const route = set.routes[i]!;
    const hostnames = attachments[i]?.hostnames ?? [];
    const meshes = meshParents(route, mesh, issues);
    if (hostnames.length === 0 && meshes.length === 0) continue;
    const ctx = routeKindOf(route.doc) === "GRPCRoute" ? grpcCtx : httpCtx;
    for (const entry of run !== undefined ? run.compile(route, ctx, hostnames, meshes) : compileRoute(route, ctx, hostnames, meshes)) entries.push(entry);
    rules += route.doc.spec.rules.length;
    // A promise only once a time slice is used up: no await (and no microtask) per route.
    const pause = breathe();
    if (pause !== undefined) await pause;
  }
  // Every Backend named like a Service is that Service's default route, for ports no mesh route claims.
  for (const b of set.backends) {
    const { namespace, name } = b.doc.metadata;
    const compiled = backends.get(`${namespace}/${name}`);
    if (compiled !== undefined && isServiceName(name) && isServiceName(namespace)) entries.push(defaultRoute(compiled, namespace, name, mesh, { destination }));
  }
  // With DNS discovery, Services this configuration names but has no Backend for get a default route per known port.
  if (discovery !== null) {
    for (const [key, ports] of discoverablePorts(set, backends)) {
      const [namespace, name] = [key.slice(0, key.indexOf("/")), key.slice(key.indexOf("/") + 1)];
      if (!isServiceName(name) || !isServiceName(namespace)) continue;
      for (const port of ports) {
        const found = services.discover(key, port);
        if (found !== null && typeof found !== "string") entries.push(defaultRoute(found, namespace, name, mesh, { destination }, port));
      }
    }
  }
  if (set.gateways.length === 0) warnOverlaps(set.routes, issues);
  // Endpoints that took a Service's targetPort are endpoints too: health checks and pools see them.
  for (const [key, variant] of services.extraBackends()) {
    const base = backends.get(variant.key);
    if (base === undefined || variant.protocol !== base.protocol || variant.endpoints.some((e, i) => e.origin !== base.endpoints[i]?.origin)) backends.set(key, variant);
  }
  const documents = new Map(prepared.documents);
  const discovered = services.discoveredHostnames();
  if (discovery !== null && discovered.length > 0) await discovery.settled(discovered, options.discoveryWaitMs ?? 2_000);
  const hash = prepared.hash;
  const routes = await RouteTable.build(entries, mesh, memo?.table ?? undefined, breathe);
  if (memo !== undefined) {
    run!.commit();
    memo.table = routes;
  }
  return Object.freeze({
    version: version ?? hash.slice(0, 12),
    hash,
    source,
    loadedAt: new Date(),
    routes,
    mesh,
    backends,
    warnings: issues,
    identityHeaders: security.identityHeaders,
    credentials: security.credentials,
    securityPolicies: security.all,
    discoveredHostnames: discovered,
    documents,
    counts: { routes: set.routes.length, rules, backends: set.backends.length, trafficPolicies: set.trafficPolicies.length, securityPolicies: set.securityPolicies.length, rateLimitPolicies: set.rateLimitPolicies.length },
  });
}

function bindingIssues(backends: PolicySet["backends"], mode: "allow" | "warn" | "refuse"): PolicyIssue[] {
  if (mode === "allow") return [];
  const out: PolicyIssue[] = [];
  for (const b of backends) {
    b.doc.spec.endpoints.forEach((e, i) => {
      if (e.binding === undefined) return;
      const message = mode === "refuse"
        ? `service binding ${e.binding} exists on Cloudflare Workers only; a Node gateway reaches endpoints by url (http:// or https://)`
        : `service binding ${e.binding} works on Cloudflare Workers only; meshgate serve on Node refuses this Backend`;
      out.push({ file: b.file, index: b.index, severity: mode === "refuse" ? "error" : "warning", path: ["spec", "endpoints", i, "binding"], message });
    });
  }
  return out;
}

/**
 * Services a discovering gateway can default-route to: those named by a Service document, a
 * backendRef or a mesh parentRef but described by no Backend, each with the ports known for it
 * (the Service document's, else the ports refs name, else 80). Only names the configuration
 * gives are resolved: a client's Host never starts a DNS lookup.
 */
function discoverablePorts(set: PolicySet, backends: ReadonlyMap<string, CompiledBackend>): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  const add = (key: string, port: number | undefined) => {
    if (backends.has(key)) return;
    let ports = out.get(key);
    if (ports === undefined) out.set(key, (ports = new Set()));
    if (port !== undefined) ports.add(port);
  };
  for (const s of set.services) for (const p of s.doc.spec.ports) add(`${s.doc.metadata.namespace}/${s.doc.metadata.name}`, p.port);
  for (const s of set.services) add(`${s.doc.metadata.namespace}/${s.doc.metadata.name}`, undefined);
  for (const r of set.routes) {
    const ns = r.doc.metadata.namespace;
    for (const rule of r.doc.spec.rules) for (const ref of rule.backendRefs) if (ref.group === "" && ref.kind === "Service") add(`${ref.namespace ?? ns}/${ref.name}`, ref.port);
    for (const p of r.doc.spec.parentRefs) if ((p.group ?? "") === "" && p.kind === "Service") add(`${p.namespace ?? ns}/${p.name}`, p.port);
  }
  const documented = new Set(set.services.filter((s) => s.doc.spec.ports.length > 0).map((s) => `${s.doc.metadata.namespace}/${s.doc.metadata.name}`));
  for (const [key, ports] of out) {
    // A Service document's ports are the Service's ports; refs to others are warned about where they are.
    if (documented.has(key)) {
      const service = set.services.find((s) => `${s.doc.metadata.namespace}/${s.doc.metadata.name}` === key)!;
      out.set(key, new Set(service.doc.spec.ports.map((p) => p.port)));
    } else if (ports.size === 0) ports.add(80);
  }
  return out;
}

const H2_APP = new Set(["kubernetes.io/h2c", "grpc"]);

/** GRPCRoutes and HTTP/2 Backends where the runtime's fetch cannot carry them (Workers): refused whole, never half-working. */
function http2Issues(set: PolicySet, mode: "allow" | "warn" | "refuse"): PolicyIssue[] {
  if (mode === "allow") return [];
  const severity = mode === "refuse" ? ("error" as const) : ("warning" as const);
  const where = mode === "refuse" ? "this runtime reaches upstreams with fetch" : "a Worker reaches upstreams with fetch";
  const out: PolicyIssue[] = [];
  for (const r of set.routes) {
    if (routeKindOf(r.doc) !== "GRPCRoute") continue;
    out.push({ file: r.file, index: r.index, severity, path: ["kind"], message: `GRPCRoute needs HTTP/2 to its backends with response trailers (grpc-status); ${where}, which offers neither: serve GRPCRoutes with meshgate serve on Node` });
  }
  for (const b of set.backends) {
    const app = b.doc.spec.appProtocol;
    if (app !== undefined && H2_APP.has(app)) out.push({ file: b.file, index: b.index, severity, path: ["spec", "appProtocol"], message: `appProtocol ${app} (HTTP/2 to the endpoints) cannot be honoured: ${where}, which speaks HTTP/1.1 to http:// origins; serve this Backend with meshgate serve on Node` });
    b.doc.spec.ports?.forEach((p, i) => {
      if (p.appProtocol !== undefined && H2_APP.has(p.appProtocol)) out.push({ file: b.file, index: b.index, severity, path: ["spec", "ports", i, "appProtocol"], message: `appProtocol ${p.appProtocol} (HTTP/2 to the endpoints) cannot be honoured: ${where}; serve this Backend with meshgate serve on Node` });
    });
  }
  return out;
}
