import { DurableObject } from "cloudflare:workers";
import { gcra, remaining, type GcraParams } from "../../ratelimit/gcra.js";
import type { LimiterDecision, LimiterStore } from "../../ratelimit/limiter-store.js";

/**
 * One rate-limit bucket per object (the key names the object), so every decision for a key is
 * serialized in one place: exact across all isolates and locations. The TAT is kept in memory
 * and written to storage, so an evicted object resumes where it stopped. Its storage lives as long
 * as the bucket's state matters (an alarm at the TAT): idle buckets are deleted, live ones never.
 */
export class RateLimiter extends DurableObject {
  private tat: number | null = null;
  private loaded = false;
  /** An alarm is pending in this instance's lifetime; it moves itself forward while the bucket is live. */
  private alarmSet = false;

  async decide(params: GcraParams): Promise<LimiterDecision> {
    if (!this.loaded) {
      // Storage reads close the input gate: no other decision interleaves with this load.
      this.tat = (await this.ctx.storage.get<number>("tat")) ?? null;
      this.loaded = true;
    }
    const r = gcra(this.tat, Date.now(), params);
    if (r.allowed) {
      this.tat = r.tat;
      // Write-behind: the answer does not wait for durability (a lost write after a crash only
      // refills one bucket early), so one object decides as fast as its event loop runs.
      void this.ctx.storage.put("tat", r.tat, { allowUnconfirmed: true });
      if (!this.alarmSet) {
        this.alarmSet = true;
        void this.ctx.storage.setAlarm(r.tat);
      }
    }
    return { allowed: r.allowed, remaining: remaining(r.fillMs, params), resetMs: r.fillMs, retryAfterMs: r.retryAfterMs };
  }

  /** TTL = the bucket's horizon: at the TAT the bucket is full again and its state can go. */
  override async alarm(): Promise<void> {
    const tat = this.loaded ? this.tat : ((await this.ctx.storage.get<number>("tat")) ?? null);
    if (tat !== null && tat > Date.now()) {
      // Still live (requests moved the TAT on since the alarm was set): look again then.
      this.alarmSet = true;
      await this.ctx.storage.setAlarm(tat);
      return;
    }
    this.alarmSet = false;
    this.tat = null;
    this.loaded = true;
    await this.ctx.storage.deleteAll();
  }
}

/** What meshgate uses of a Durable Object namespace binding of RateLimiter. */
export interface RateLimiterNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): { decide(params: GcraParams): Promise<LimiterDecision> };
}

/**
 * The global store on Workers. A very hot key is one object (~1,000 decisions/s); split such a
 * limit across keys (e.g. key by client address or consumer) rather than one shared bucket.
 */
export class DurableObjectLimiterStore implements LimiterStore {
  readonly name = "durable-object";
  constructor(private readonly namespace: RateLimiterNamespace) {}

  decide(key: string, params: GcraParams): Promise<LimiterDecision> {
    return this.namespace.get(this.namespace.idFromName(key)).decide(params);
  }
}

/** The Workers rate-limiting binding (`[[ratelimits]]` in wrangler.toml): approximate, per location, cheapest. */
export interface WorkersRateLimitBinding {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

export class BindingLimiterStore implements LimiterStore {
  readonly name = "workers-binding";
  constructor(private readonly binding: WorkersRateLimitBinding) {}

  async decide(key: string): Promise<LimiterDecision> {
    const { success } = await this.binding.limit({ key });
    // The binding's limit and period live in wrangler.toml; it does not say what is left.
    return { allowed: success, remaining: null, resetMs: 0, retryAfterMs: success ? 0 : 1_000 };
  }
}
