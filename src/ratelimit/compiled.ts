import type { RateLimitPolicy } from "./rate-limit-policy.js";
import type { Condition } from "../identity/conditions.js";
import type { GatewayRequest } from "../http/exchange.js";
import type { Principal } from "../http/principal.js";
import type { GcraParams } from "./gcra.js";

/** One rate-limit rule, ready per request: does it apply, which bucket, how big. */
export interface CompiledLimitRule {
  readonly name: string;
  readonly matches: Condition;
  /** The bucket's key for this request, or null when the request has no such value (rule skipped). */
  readonly key: (principal: Principal | null, req: GatewayRequest) => string | null;
  readonly keyKind: string;
  readonly params: GcraParams;
  readonly requests: number;
  readonly periodMs: number;
  readonly burst: number;
  /** The RateLimit-Policy header value, e.g. `"per-client";q=100;w=10`. */
  readonly policyHeader: string;
  /** `"name";r=`: the constant start of the RateLimit header value. */
  readonly stateHeaderPrefix: string;
}

/** A RateLimitPolicy as the pipeline runs it. */
export interface CompiledRateLimit {
  /** "namespace/name" */
  readonly name: string;
  readonly store: RateLimitPolicy["spec"]["store"];
  readonly binding: string | null;
  readonly failureMode: "open" | "closed";
  readonly timeoutMs: number;
  readonly shadow: boolean;
  readonly responseHeaders: boolean;
  readonly rules: readonly CompiledLimitRule[];
}
