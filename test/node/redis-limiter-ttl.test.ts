import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { gcraParams } from "../../src/ratelimit/gcra.js";
import { RedisLimiterStore } from "../../src/runtime/node/redis-limiter-store.js";

// Issue 14 item 15 on Redis: a bucket's key lives exactly as long as its state matters (its TAT
// is in the future), so Redis expires idle buckets by itself and never a live one early.
const prefix = `meshgate-ttl-${process.pid}-${Date.now()}`;
const store = new RedisLimiterStore("redis://127.0.0.1:6379", prefix);
const redis = new Redis("redis://127.0.0.1:6379", { lazyConnect: true, maxRetriesPerRequest: 1 });

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await store.close();
  redis.disconnect();
});

/** The store fails fast until its connection is up; wait for that (bounded). */
async function connected(params: ReturnType<typeof gcraParams>): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await store.decide("warm-up", params);
      return;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe("Redis bucket TTL", () => {
  it("is the bucket's horizon (time until full again), kept while refused, never shorter", async () => {
    const params = gcraParams(3, 60_000, 3, 1); // 20 s per request, burst 3
    await connected(params);
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await store.decide("spent", params));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    const ttl = await redis.pttl(`${prefix}:rl:spent`);
    // Three requests spent: full again in 60 s; the TTL covers that (plus Redis's 1 s of slack).
    expect(ttl).toBeGreaterThan(58_000);
    expect(ttl).toBeLessThanOrEqual(61_000);
    expect(decisions[3]!.resetMs).toBeLessThanOrEqual(ttl);

    await store.decide("light", params);
    const light = await redis.pttl(`${prefix}:rl:light`);
    expect(light).toBeGreaterThan(18_000);
    expect(light).toBeLessThanOrEqual(21_000);
  });
});
