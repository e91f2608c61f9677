import { describe, expect, it } from "vitest";
import { pick, weightedChoice } from "./weighted.js";

describe("weightedChoice", () => {
  it("collapses to empty when every weight is zero and to single for one live item", () => {
    expect(weightedChoice(["a", "b"], () => 0).kind).toBe("empty");
    const one = weightedChoice(["a", "b"], (x) => (x === "b" ? 5 : 0));
    expect(one).toEqual({ kind: "single", item: "b" });
    expect(pick(one, () => 0.999)).toBe("b");
  });

  it("maps the random point onto cumulative weights", () => {
    const c = weightedChoice(["v1", "v2", "v3"], (x) => ({ v1: 80, v2: 0, v3: 20 })[x]!);
    expect(pick(c, () => 0)).toBe("v1");
    expect(pick(c, () => 0.7999)).toBe("v1");
    expect(pick(c, () => 0.8)).toBe("v3");
    expect(pick(c, () => 0.9999)).toBe("v3");
  });

  it("splits a seeded sequence in proportion to the weights", () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const c = weightedChoice(["a", "b", "c"], (x) => ({ a: 1, b: 2, c: 7 })[x]!);
    const counts = { a: 0, b: 0, c: 0 } as Record<string, number>;
    for (let i = 0; i < 100_000; i++) counts[pick(c, random)!]!++;
    expect(counts.a! / 100_000).toBeCloseTo(0.1, 1);
    expect(counts.b! / 100_000).toBeCloseTo(0.2, 1);
    expect(counts.c! / 100_000).toBeCloseTo(0.7, 1);
  });
});
