import type { GatewayRequest } from "../http/exchange.js";
import { cookieValue } from "../http/cookies.js";
import { fnv1a } from "../http/text-hash.js";

/** What a consistent-hash load balancer keys on: one header or one cookie. */
export interface HashKey {
  readonly header: string | null;
  readonly cookie: string | null;
}

/**
 * The point in [0, 1) a request's key maps to: the same value, the same endpoint while the
 * endpoint set is unchanged and healthy. Null when the request has no such value (random then).
 */
export function hashPoint(key: HashKey, req: GatewayRequest): number | null {
  const value = key.header !== null ? req.headers.get(key.header) : cookieValue(req.headers.getJoined("cookie"), key.cookie!);
  if (value === undefined || value === "") return null;
  return fnv1a(value) / 0x1_0000_0000;
}
