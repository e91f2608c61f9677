import type { CompiledBackend, CompiledEndpoint, PriorityLevel } from "./compiled-backend.js";
import type { Backend } from "./backend.js";
import type { HashKey } from "./hash-point.js";
import { GATEWAY_ERROR_DEFAULTS } from "../resilience/outlier.js";
import { weightedChoice } from "./weighted.js";
import { DEFAULT_CONNECTION, type ConnectionPolicy } from "./transport.js";
import { upstreamProtocol } from "./upstream-protocol.js";

/**
 * Timeouts every attempt has unless someone wrote otherwise, so a hung upstream is always
 * noticed (undici's own are off): response headers within 15 s (Envoy's route default), and no
 * body silence longer than 60 s.
 */
export const DEFAULT_TIMEOUTS = { responseHeadersMs: 15_000, streamIdleMs: 60_000 } as const;

function compileConnection(backend: Backend): ConnectionPolicy {
  const c = backend.spec.connection;
  const pending = c?.maxPendingRequests ?? backend.spec.circuitBreaker?.maxPendingRequests ?? DEFAULT_CONNECTION.maxPendingRequests;
  const policy = {
    maxConnections: c?.maxConnections ?? null,
    maxPendingRequests: pending,
    maxRequestsPerConnection: c?.maxRequestsPerConnection ?? null,
    connectTimeoutMs: c?.connectTimeout ?? DEFAULT_CONNECTION.connectTimeoutMs,
    idleTimeoutMs: c?.idleTimeout ?? c?.keepAliveTimeout ?? DEFAULT_CONNECTION.idleTimeoutMs,
  };
  const isDefault = (Object.keys(policy) as (keyof typeof policy)[]).every((k) => policy[k] === DEFAULT_CONNECTION[k]);
  return { id: isDefault ? "" : JSON.stringify(policy), ...policy };
}

/** What a backendRef's Service port adds to a Backend: the workloads' port and protocol. */
export interface ServicePortView {
  /** The port for endpoint URLs that name none (a Service's targetPort). */
  readonly targetPort: number;
  /** Kubernetes appProtocol of the Service port, or null. */
  readonly appProtocol: string | null;
}

/** `http://host` and `https://[::1]` name no port; `http://host:80` does, even though URL drops it. */
const WRITTEN_PORT = /^[a-z][a-z0-9+.-]*:\/\/(?:\[[^\]]*\]|[^/?#:@]*)(?::(\d*))?/i;

/** The origin of an endpoint reached through a Workers service binding: `binding:REVIEWS`. */
export const BINDING_ORIGIN = "binding:";

function originOf(url: string, port: ServicePortView | undefined): string {
  const parsed = new URL(url);
  if (port !== undefined && WRITTEN_PORT.exec(url)?.[1] === undefined) parsed.port = String(port.targetPort);
  return parsed.origin;
}

/**
 * A Backend document into endpoints grouped by priority, with its health and breaker policies.
 * With `port` (the Service port a backendRef names), endpoint URLs without a port of their own
 * take its targetPort.
 */
export function compileBackend(backend: Backend, port?: ServicePortView): CompiledBackend {
  const key = `${backend.metadata.namespace}/${backend.metadata.name}`;
  const endpoints: CompiledEndpoint[] = backend.spec.endpoints.map((e) => ({
    // A service binding has no address: "binding:NAME" keys its pool, health and metrics.
    origin: e.url === undefined ? `${BINDING_ORIGIN}${e.binding!}` : originOf(e.url, port),
    weight: e.weight,
    priority: e.priority,
    zone: e.zone ?? null,
    cluster: e.cluster ?? null,
  }));
  const levels = levelsOf(endpoints);
  const od = backend.spec.outlierDetection;
  const hc = backend.spec.healthCheck;
  const cb = backend.spec.circuitBreaker;
  const t = backend.spec.timeouts;
  return {
    key,
    endpoints,
    levels,
    choose: weightedChoice(levels[0]?.endpoints ?? [], (e) => e.weight),
    outlier: od
      ? { consecutive5xx: od.consecutive5xx, consecutiveGatewayErrors: od.consecutiveGatewayErrors, baseEjectionMs: od.baseEjectionTime, maxEjectionMs: od.maxEjectionTime, maxEjectionPercent: od.maxEjectionPercent }
      : GATEWAY_ERROR_DEFAULTS,
    breaker: cb ? { maxRequests: cb.maxRequests, maxPendingRequests: cb.maxPendingRequests } : null,
    tls: backend.spec.tls ? { id: JSON.stringify(backend.spec.tls), ...backend.spec.tls } : null,
    connection: compileConnection(backend),
    timeouts: { responseHeadersMs: t?.responseHeaders ?? DEFAULT_TIMEOUTS.responseHeadersMs, streamIdleMs: t?.streamIdle ?? DEFAULT_TIMEOUTS.streamIdleMs },
    explicitTimeouts: { responseHeaders: t?.responseHeaders !== undefined, streamIdle: t?.streamIdle !== undefined },
    appProtocol: port?.appProtocol ?? backend.spec.appProtocol ?? null,
    hashOn: hashOf(backend),
    protocol: upstreamProtocol(port?.appProtocol ?? backend.spec.appProtocol),
    healthCheck: hc ? { path: hc.path, intervalMs: hc.interval, timeoutMs: hc.timeout, healthyThreshold: hc.healthyThreshold, unhealthyThreshold: hc.unhealthyThreshold } : null,
  };
}

/** Endpoints grouped by priority, best first; levels whose weights are all zero are dropped. */
export function levelsOf(endpoints: readonly CompiledEndpoint[]): PriorityLevel[] {
  return [...new Set(endpoints.map((e) => e.priority))]
    .sort((a, b) => a - b)
    .map((priority) => {
      const members = endpoints.filter((e) => e.priority === priority);
      return { priority, endpoints: members, totalWeight: members.reduce((s, e) => s + e.weight, 0) };
    })
    .filter((l) => l.totalWeight > 0);
}

function hashOf(backend: Backend): HashKey | null {
  const ch = backend.spec.loadBalancer?.consistentHash;
  return ch === undefined ? null : { header: ch.header ?? null, cookie: ch.cookie ?? null };
}
