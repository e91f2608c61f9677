import type { CompiledBackend, CompiledEndpoint, PriorityLevel } from "./compiled-backend.js";
import type { Backend } from "./backend.js";
import { GATEWAY_ERROR_DEFAULTS } from "../resilience/outlier.js";
import { weightedChoice } from "./weighted.js";

/** A Backend document into endpoints grouped by priority, with its health and breaker policies. */
export function compileBackend(backend: Backend): CompiledBackend {
  const key = `${backend.metadata.namespace}/${backend.metadata.name}`;
  const endpoints: CompiledEndpoint[] = backend.spec.endpoints.map((e) => ({
    origin: new URL(e.url).origin,
    weight: e.weight,
    priority: e.priority,
    zone: e.zone ?? null,
    cluster: e.cluster ?? null,
  }));
  const levels: PriorityLevel[] = [...new Set(endpoints.map((e) => e.priority))]
    .sort((a, b) => a - b)
    .map((priority) => {
      const members = endpoints.filter((e) => e.priority === priority);
      return { priority, endpoints: members, totalWeight: members.reduce((s, e) => s + e.weight, 0) };
    })
    .filter((l) => l.totalWeight > 0);
  const od = backend.spec.outlierDetection;
  const hc = backend.spec.healthCheck;
  const cb = backend.spec.circuitBreaker;
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
    healthCheck: hc ? { path: hc.path, intervalMs: hc.interval, timeoutMs: hc.timeout, healthyThreshold: hc.healthyThreshold, unhealthyThreshold: hc.unhealthyThreshold } : null,
  };
}
