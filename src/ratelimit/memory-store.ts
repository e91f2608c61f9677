import type { Clock } from "../pipeline/runtime-env.js";
import { gcra, remaining, type GcraParams } from "./gcra.js";
import type { LimiterDecision, LimiterStore } from "./limiter-store.js";

const MAX_KEYS = 100_000;

/** Buckets in this process (per isolate on Workers): exact for one instance, multiplied by replicas. */
export class MemoryLimiterStore implements LimiterStore {
  readonly name = "local";
  private readonly tats = new Map<string, number>();

  constructor(private readonly clock: Pick<Clock, "now">) {}

  decide(key: string, params: GcraParams): Promise<LimiterDecision> {
    return Promise.resolve(this.decideNow(key, params));
  }

  decideNow(key: string, params: GcraParams): LimiterDecision {
    const now = this.clock.now();
    const r = gcra(this.tats.get(key) ?? null, now, params);
    if (r.allowed) {
      // Full buckets carry no information: forget them so the map only holds active keys.
      if (this.tats.size >= MAX_KEYS) this.sweep(now);
      this.tats.set(key, r.tat);
    }
    return { allowed: r.allowed, remaining: remaining(r.fillMs, params), resetMs: r.fillMs, retryAfterMs: r.retryAfterMs };
  }

  private sweep(now: number): void {
    for (const [key, tat] of this.tats) if (tat <= now) this.tats.delete(key);
    if (this.tats.size >= MAX_KEYS) this.tats.delete(this.tats.keys().next().value!);
  }
}
