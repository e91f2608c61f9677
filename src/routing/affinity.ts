import type { AffinityPolicy } from "../resilience/policies.js";
import type { GatewayRequest } from "../http/exchange.js";
import { cookieValue } from "../http/cookies.js";
import { fnv1a } from "../http/text-hash.js";

/**
 * Session affinity: the same header or cookie value always maps to the same point in [0, 1),
 * so a user stays in a canary cohort while its weight changes (the point does not move; only
 * the boundaries between backendRefs do). Null when the request carries no value.
 */
export function affinityPoint(policy: AffinityPolicy, req: GatewayRequest): number | null {
  const value = policy.header !== null ? req.headers.get(policy.header) : cookieValue(req.headers.getJoined("cookie"), policy.cookie!);
  if (value === undefined || value === "") return null;
  return fnv1a(value) / 0x1_0000_0000;
}
