import type { Random } from "../http/runtime-env.js";
import type { CompiledBackend, CompiledEndpoint } from "./compiled-backend.js";
import type { BackendHealth } from "../resilience/outlier.js";
import { pick, weightedChoice } from "./weighted.js";

/** Envoy's overprovisioning factor: a level at 72% health (x1.4 ≈ 100%) still takes all its traffic. */
const OVERPROVISIONING = 1.4;

/**
 * Picks an endpoint: traffic stays on the best priority level while it is healthy enough and
 * overflows to the next levels in proportion to lost health (Envoy's priority load). Endpoints in
 * `exclude` (already tried by this request) are avoided while any alternative exists. With no
 * healthy endpoint anywhere, it falls back to all of them (panic) rather than failing outright.
 */
export function chooseEndpoint(backend: CompiledBackend, health: BackendHealth, now: number, random: Random, exclude?: ReadonlySet<string>): CompiledEndpoint | null {
  const noExclusions = exclude === undefined || exclude.size === 0;
  if (noExclusions && backend.levels.length <= 1 && health.allHealthy(now)) return pick(backend.choose, random);

  const usable = (e: CompiledEndpoint) => e.weight > 0 && !exclude?.has(e.origin) && health.endpoint(e.origin).healthy(now);
  const loads: number[] = [];
  const healthyPerLevel: CompiledEndpoint[][] = [];
  let remaining = 100;
  for (const level of backend.levels) {
    const healthy = level.endpoints.filter(usable);
    healthyPerLevel.push(healthy);
    const healthyWeight = healthy.reduce((sum, e) => sum + e.weight, 0);
    const pct = level.totalWeight === 0 ? 0 : Math.min(100, (OVERPROVISIONING * 100 * healthyWeight) / level.totalWeight);
    const load = Math.min(remaining, pct);
    loads.push(load);
    remaining -= load;
  }
  const total = loads.reduce((a, b) => a + b, 0);
  if (total === 0) return panic(backend, exclude, random);
  let point = random() * total;
  for (let i = 0; i < loads.length; i++) {
    if (point < loads[i]!) return pick(weightedChoice(healthyPerLevel[i]!, (e) => e.weight), random);
    point -= loads[i]!;
  }
  return pick(weightedChoice(healthyPerLevel[healthyPerLevel.length - 1]!, (e) => e.weight), random);
}

function panic(backend: CompiledBackend, exclude: ReadonlySet<string> | undefined, random: Random): CompiledEndpoint | null {
  const all = backend.endpoints.filter((e) => e.weight > 0);
  const fresh = all.filter((e) => !exclude?.has(e.origin));
  return pick(weightedChoice(fresh.length > 0 ? fresh : all, (e) => e.weight), random);
}
