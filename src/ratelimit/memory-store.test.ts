import { describe, expect, it } from "vitest";
import { ManualClock } from "../http/manual-clock.js";
import { gcraParams } from "./gcra.js";
import { LimiterStoreFullError, MemoryLimiterStore } from "./memory-store.js";

describe("MemoryLimiterStore", () => {
  const params = gcraParams(2, 10_000, 2, 1); // 2 per 10 s

  it("never evicts a live bucket: a flood of fresh keys cannot reset a spent quota", () => {
    const clock = new ManualClock();
    const store = new MemoryLimiterStore(clock, { maxKeys: 10 });
    expect(store.decideNow("victim", params).allowed).toBe(true);
    expect(store.decideNow("victim", params).allowed).toBe(true);
    expect(store.decideNow("victim", params).allowed).toBe(false);
    let refused = 0;
    for (let i = 0; i < 1_000; i++) {
      try {
        store.decideNow(`fresh-${i}`, params);
      } catch (err) {
        expect(err).toBeInstanceOf(LimiterStoreFullError);
        expect((err as LimiterStoreFullError).retryAfterMs).toBe(5_000);
        refused++;
      }
    }
    expect(refused).toBe(1_000 - 9);
    expect(store.size).toBe(10);
    expect(store.decideNow("victim", params).allowed).toBe(false);
  });

  it("reuses the slots of idle buckets (TAT in the past) and only those", async () => {
    const clock = new ManualClock();
    const store = new MemoryLimiterStore(clock, { maxKeys: 3 });
    store.decideNow("a", params); // TAT 5 s
    await clock.advance(1_000);
    store.decideNow("b", params); // TAT 6 s
    store.decideNow("b", params); // TAT 11 s: spent
    store.decideNow("c", params); // TAT 6 s
    expect(() => store.decideNow("d", params)).toThrow(LimiterStoreFullError);
    await clock.advance(5_000); // now 6 s: a and c are idle, b is not
    expect(store.decideNow("d", params).allowed).toBe(true);
    expect(store.decideNow("e", params).allowed).toBe(true);
    // b kept its state: one request regenerated in 5 s, not a fresh bucket of two.
    expect(store.decideNow("b", params).allowed).toBe(true);
    expect(store.decideNow("b", params).allowed).toBe(false);
    expect(() => store.decideNow("f", params)).toThrow(LimiterStoreFullError);
  });

  it("rejects decide() with the same error", async () => {
    const store = new MemoryLimiterStore(new ManualClock(), { maxKeys: 1 });
    await store.decide("a", params);
    await expect(store.decide("b", params)).rejects.toBeInstanceOf(LimiterStoreFullError);
  });
});
