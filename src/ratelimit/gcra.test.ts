import { describe, expect, it } from "vitest";

/** Time that moves only when the test says so (decisions are synchronous, so no timers are needed). */
class ManualClock {
  private t = 0;
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
import { gcraParams } from "./gcra.js";
import { MemoryLimiterStore } from "./memory-store.js";

function run(store: MemoryLimiterStore, clock: ManualClock, params: ReturnType<typeof gcraParams>, durationMs: number, everyMs: number): number {
  let allowed = 0;
  for (let t = 0; t < durationMs; t += everyMs) {
    if (store.decideNow("k", params).allowed) allowed++;
    clock.advance(everyMs);
  }
  return allowed;
}

describe("GCRA on an injected clock", () => {
  it("burst 1: exactly `requests` per period under constant pressure", () => {
    const clock = new ManualClock();
    const store = new MemoryLimiterStore(clock);
    expect(run(store, clock, gcraParams(100, 10_000, 1, 1), 10_000, 1)).toBe(100);
    expect(run(store, clock, gcraParams(100, 10_000, 1, 1), 10_000, 1)).toBe(100);
  });

  it("burst N: N at once, then the sustained rate", () => {
    const clock = new ManualClock();
    const store = new MemoryLimiterStore(clock);
    const p = gcraParams(100, 10_000, 100, 1);
    let first = 0;
    for (let i = 0; i < 500; i++) if (store.decideNow("k", p).allowed) first++;
    expect(first).toBe(100);
    // Then the refill: one every 100 ms, the first at 100 ms, so [0, 10 s) holds 99 and the 100th lands at 10 s.
    expect(run(store, clock, p, 10_000, 5)).toBe(99);
    expect(store.decideNow("k", p).allowed).toBe(true);
  });

  it("reports remaining, reset and retry-after", () => {
    const clock = new ManualClock();
    const store = new MemoryLimiterStore(clock);
    const p = gcraParams(10, 1_000, 10, 1);
    const first = store.decideNow("k", p);
    expect(first).toEqual({ allowed: true, remaining: 9, resetMs: 100, retryAfterMs: 0 });
    for (let i = 0; i < 9; i++) store.decideNow("k", p);
    const refused = store.decideNow("k", p);
    expect(refused.allowed).toBe(false);
    expect(refused.remaining).toBe(0);
    expect(refused.retryAfterMs).toBeCloseTo(100);
    clock.advance(100);
    expect(store.decideNow("k", p).allowed).toBe(true);
  });

  it("cost takes several units", () => {
    const clock = new ManualClock();
    const store = new MemoryLimiterStore(clock);
    const p = gcraParams(10, 1_000, 10, 4);
    expect([1, 2, 3].map(() => store.decideNow("k", p).allowed)).toEqual([true, true, false]);
  });

  it("keys are independent", () => {
    const clock = new ManualClock();
    const store = new MemoryLimiterStore(clock);
    const p = gcraParams(1, 1_000, 1, 1);
    expect(store.decideNow("a", p).allowed).toBe(true);
    expect(store.decideNow("b", p).allowed).toBe(true);
    expect(store.decideNow("a", p).allowed).toBe(false);
  });
});
