import type { CompiledBackend } from "../upstream/compiled-backend.js";
import { weightedChoice } from "../upstream/weighted.js";
import type { CompiledBackendRef, CompiledRule, RouteEntry } from "./compiled-rule.js";
import { compileMatch } from "./compile-match.js";
import { serviceHost, type MeshOptions } from "./mesh.js";
import { destinationOf, type RuleContext } from "./compile-rule.js";
import type { ForwardPolicy } from "../upstream/forward-policy.js";

const EVERYTHING = compileMatch({ path: { type: "PathPrefix", value: "/" }, headers: [], queryParams: [] });

/**
 * The mesh's default route for one Service (GAMMA: a Service no route claims is reached "as if
 * the mesh were not present"): every request its authority names goes, unchanged, to the Backend
 * named like the Service. A plain compiled rule, so hygiene, telemetry, forwarding and the
 * Service's own resilience settings and Service-targeted policies apply as on any route; no
 * filters, no route policies. `port`: the one Service port it serves (a DNS-discovered Service
 * has a backend per port); null = every port.
 */
export function defaultRoute(backend: CompiledBackend, namespace: string, name: string, options: MeshOptions, ctx: Pick<RuleContext, "destination">, port: number | null = null): RouteEntry {
  const service = `${namespace}/${name}`;
  const own: ForwardPolicy = { id: `${service}/default-route`, requestTimeoutMs: null, backendTimeoutMs: null, retry: null, hedge: null };
  const ref: CompiledBackendRef = { key: service, destination: destinationOf(service, ctx, own, null), weight: 1, backend, requestFilters: [], responseFilters: [] };
  const rule: CompiledRule = {
    id: own.id,
    route: { namespace, name },
    ruleIndex: 0,
    preflight: null,
    requestFilters: [],
    redirect: null,
    mirrors: [],
    responseFilters: [],
    backends: weightedChoice([ref], (r) => r.weight),
    backendRefs: [ref],
    requestTimeoutMs: null,
    backendTimeoutMs: null,
    retry: null,
    hedge: null,
    fault: null,
    affinity: null,
    maxRequestBodyBytes: null,
    persistence: null,
    trafficPolicy: null,
    security: null,
    rateLimit: null,
  };
  const host = serviceHost(namespace, name, options);
  return { rule, hostPattern: host, ...EVERYTHING, age: { created: "", key: service, rule: 0, match: 0 }, mesh: { service, host, role: "default", port, parent: -1 } };
}
