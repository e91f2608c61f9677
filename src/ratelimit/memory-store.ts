import type { Clock } from "../http/runtime-env.js";
import { gcra, remaining, type GcraParams } from "./gcra.js";
import type { LimiterDecision, LimiterStore } from "./limiter-store.js";

export interface MemoryLimiterOptions {
  /** Buckets held at most; default 100,000. */
  readonly maxKeys?: number;
}

/**
 * A new key met a store whose every bucket is still live. Evicting one would hand its client a
 * fresh quota (100,000 requests with fresh header values used to reset a spent bucket), so the
 * new key is refused instead and the policy's failureMode answers for it.
 */
export class LimiterStoreFullError extends Error {
  readonly code = "limiter_store_full";
  constructor(
    readonly maxKeys: number,
    /** When the first bucket becomes idle and its slot can be reused. */
    readonly retryAfterMs: number,
  ) {
    super(`rate-limit store holds ${maxKeys} live buckets; a new key is not tracked until one is idle (in ${Math.ceil(retryAfterMs)} ms)`);
    this.name = "LimiterStoreFullError";
  }
}

/** Buckets in this process (per isolate on Workers): exact for one instance, multiplied by replicas. */
export class MemoryLimiterStore implements LimiterStore {
  readonly name = "local";
  private readonly tats = new Map<string, number>();
  private readonly maxKeys: number;
  /** No bucket can be idle before this time: the last sweep saw none idle and this as the earliest TAT. */
  private nextIdleAt = -Infinity;

  constructor(
    private readonly clock: Pick<Clock, "now">,
    options: MemoryLimiterOptions = {},
  ) {
    this.maxKeys = options.maxKeys ?? 100_000;
  }

  get size(): number {
    return this.tats.size;
  }

  decide(key: string, params: GcraParams): Promise<LimiterDecision> {
    try {
      return Promise.resolve(this.decideNow(key, params));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Throws LimiterStoreFullError for a new key when every held bucket is live. */
  decideNow(key: string, params: GcraParams): LimiterDecision {
    const now = this.clock.now();
    const stored = this.tats.get(key);
    const r = gcra(stored ?? null, now, params);
    if (r.allowed) {
      if (stored === undefined && this.tats.size >= this.maxKeys) this.makeRoom(now);
      this.tats.set(key, r.tat);
    }
    return { allowed: r.allowed, remaining: remaining(r.fillMs, params), resetMs: r.fillMs, retryAfterMs: r.retryAfterMs };
  }

  /**
   * Frees the slots of idle buckets (TAT ≤ now: a full bucket carries no information). Live
   * buckets are never evicted. A sweep that frees nothing remembers the earliest TAT, so a flood
   * of new keys costs one sweep per bucket expiry, not one per request.
   */
  private makeRoom(now: number): void {
    if (now >= this.nextIdleAt) {
      let earliest = Infinity;
      for (const [key, tat] of this.tats) {
        if (tat <= now) this.tats.delete(key);
        else if (tat < earliest) earliest = tat;
      }
      this.nextIdleAt = earliest;
    }
    if (this.tats.size >= this.maxKeys) throw new LimiterStoreFullError(this.maxKeys, this.nextIdleAt - now);
  }
}
