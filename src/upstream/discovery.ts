import type { Backend } from "./backend.js";
import type { CompiledBackend, CompiledEndpoint, PriorityLevel } from "./compiled-backend.js";
import { compileBackend, type ServicePortView } from "./compile-backend.js";
import { weightedChoice, type WeightedChoice } from "./weighted.js";

/** The last good answer for one name: addresses, and a generation bumped whenever they change. */
export interface DiscoveredAddresses {
  /** IPv4 and IPv6 addresses, sorted; empty until the first answer. */
  readonly addresses: readonly string[];
  readonly generation: number;
}

/**
 * Where Services without a Backend document are found (Node: DNS, `serve --service-discovery
 * dns`). Resolution runs in the background, never on a request's path: `watch` returns a live
 * view the balancer reads.
 */
export interface ServiceDiscovery {
  /** The cluster's DNS suffix: Service S of namespace N is `S.N.svc.<clusterDomain>`. */
  readonly clusterDomain: string;
  /** Starts resolving `hostname` (if not yet) and returns its live addresses. */
  watch(hostname: string): DiscoveredAddresses;
  /** Resolves when each name has had its first answer or failure, or after `ms`. */
  settled(hostnames: readonly string[], ms: number): Promise<void>;
}

/** The DNS name of Service `name` in `namespace`. */
export function serviceHostname(discovery: ServiceDiscovery, namespace: string, name: string): string {
  return `${name}.${namespace}.svc.${discovery.clusterDomain}`;
}

const LIVE = Symbol("meshgate.discovered");

/** Whether a backend's endpoints come from discovery (its endpoint list changes under it). */
export function isDiscovered(backend: CompiledBackend): boolean {
  return (backend as { [LIVE]?: true })[LIVE] === true;
}

/**
 * A Backend whose endpoints are the addresses discovery found for `hostname`, each its own
 * endpoint (own outlier and health state, keyed by origin) on `view.targetPort`. Everything else
 * (timeouts, breaker, TLS…) comes from `doc`, a Backend document written for the Service or made
 * up with defaults. The endpoint list is rebuilt only when the addresses change.
 */
export function discoveredBackend(doc: Backend, view: ServicePortView, live: DiscoveredAddresses): CompiledBackend {
  const base = compileBackend(doc, view);
  const scheme = base.tls !== null || view.appProtocol === "https" || view.appProtocol === "kubernetes.io/wss" ? "https" : "http";
  let generation = -1;
  let endpoints: readonly CompiledEndpoint[] = [];
  let levels: readonly PriorityLevel[] = [];
  let choose: WeightedChoice<CompiledEndpoint> = weightedChoice<CompiledEndpoint>([], () => 1);
  const refresh = () => {
    if (live.generation === generation) return;
    generation = live.generation;
    endpoints = live.addresses.map((a) => ({ origin: `${scheme}://${a.includes(":") ? `[${a}]` : a}:${view.targetPort}`, weight: 1, priority: 0, zone: null, cluster: null }));
    levels = endpoints.length === 0 ? [] : [{ priority: 0, endpoints, totalWeight: endpoints.length }];
    choose = weightedChoice(endpoints, () => 1);
  };
  const backend = { ...base } as CompiledBackend;
  Object.defineProperties(backend, {
    endpoints: { get: () => (refresh(), endpoints), enumerable: true },
    levels: { get: () => (refresh(), levels), enumerable: true },
    choose: { get: () => (refresh(), choose), enumerable: true },
    [LIVE]: { value: true },
  });
  return backend;
}

/** A Backend document for a Service that has none: meshgate's defaults, one placeholder endpoint. */
export function defaultBackendDoc(namespace: string, name: string): Backend {
  return {
    apiVersion: "meshgate.dev/v1alpha1",
    kind: "Backend",
    metadata: { namespace, name },
    spec: { endpoints: [{ url: "http://0.0.0.0", weight: 1, priority: 0 }] },
  } as Backend;
}
