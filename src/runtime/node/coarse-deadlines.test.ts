import { describe, expect, it } from "vitest";
import { CoarseDeadlines, type Watched } from "./coarse-deadlines.js";

describe("CoarseDeadlines", () => {
  it("expires each watched deadline once, never early; deleted ones never", async () => {
    const period = 10;
    const sweep = new CoarseDeadlines(period);
    const started = performance.now();
    const expired = new Map<number, number>();
    const all: (Watched & { id: number; limitMs: number })[] = [];
    for (let id = 0; id < 60; id++) {
      const limitMs = 20 + (id % 6) * 15;
      const mark = sweep.tick;
      const ticks = sweep.ticksFor(limitMs);
      const w = {
        id,
        limitMs,
        sweepSlot: -1,
        due: (tick: number) => tick - mark >= ticks,
        expire: () => {
          expect(expired.has(id)).toBe(false);
          expired.set(id, performance.now() - started);
        },
      };
      all.push(w);
      sweep.add(w);
      sweep.add(w); // twice: still one entry
    }
    const deleted = all.filter((w) => w.id % 4 === 1);
    for (const w of deleted) sweep.delete(w);
    await new Promise((r) => setTimeout(r, 200));
    for (const w of all) {
      if (w.id % 4 === 1) expect(expired.has(w.id)).toBe(false);
      else expect(expired.get(w.id)).toBeGreaterThanOrEqual(w.limitMs);
    }
    for (const w of all) expect(w.sweepSlot).toBe(-1);
    sweep.close();
  });
});
