import type { GcraParams } from "./gcra.js";

export interface LimiterDecision {
  readonly allowed: boolean;
  /** Requests left in the bucket after this one; null where the store cannot tell (Workers binding). */
  readonly remaining: number | null;
  /** Milliseconds until the bucket is full again. */
  readonly resetMs: number;
  /** When refused: milliseconds until a retry could pass. */
  readonly retryAfterMs: number;
}

/**
 * Where buckets live. One call per decision, atomic per key: local memory, Redis (one Lua
 * script), a Durable Object per key. Implementations reject on failure; the stage applies the
 * policy's timeout and failureMode.
 */
export interface LimiterStore {
  readonly name: string;
  decide(key: string, params: GcraParams): Promise<LimiterDecision>;
  /** Stores in this process answer at once: no promise and no timeout timer on the hot path. */
  decideNow?(key: string, params: GcraParams): LimiterDecision;
}
