import type { AffinityPolicy } from "../policy/snapshot.js";
import type { GatewayRequest } from "./exchange.js";

/**
 * Session affinity: the same header or cookie value always maps to the same point in [0, 1),
 * so a user stays in a canary cohort while its weight changes (the point does not move; only
 * the boundaries between backendRefs do). Null when the request carries no value.
 */
export function affinityPoint(policy: AffinityPolicy, req: GatewayRequest): number | null {
  const value = policy.header !== null ? req.headers.get(policy.header) : cookie(req.headers.getJoined("cookie"), policy.cookie!);
  if (value === undefined || value === "") return null;
  // FNV-1a, 32 bit: fast, stable across runtimes, well spread for short strings.
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 0x1_0000_0000;
}

function cookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(/;\s*|,\s*/)) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
