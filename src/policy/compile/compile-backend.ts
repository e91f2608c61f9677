import type { CompiledBackend, CompiledEndpoint } from "../snapshot.js";
import type { Backend } from "../schema/index.js";
import { weightedChoice } from "../../upstream/weighted.js";

/** A Backend document into endpoints and the weighted choice over its best priority level. */
export function compileBackend(backend: Backend): CompiledBackend {
  const key = `${backend.metadata.namespace}/${backend.metadata.name}`;
  const endpoints: CompiledEndpoint[] = backend.spec.endpoints.map((e) => ({
    origin: new URL(e.url).origin,
    weight: e.weight,
    priority: e.priority,
    zone: e.zone ?? null,
    cluster: e.cluster ?? null,
  }));
  // Lower number = preferred. Failover across levels by health arrives with outlier detection;
  // until then the best level with any weight takes all traffic.
  const levels = [...new Set(endpoints.map((e) => e.priority))].sort((a, b) => a - b);
  const best = levels.map((p) => endpoints.filter((e) => e.priority === p && e.weight > 0)).find((l) => l.length > 0) ?? [];
  return { key, endpoints, choose: weightedChoice(best, (e) => e.weight) };
}
