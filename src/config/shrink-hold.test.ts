import { describe, expect, it } from "vitest";
import { shrinkHold } from "./shrink-hold.js";

const inForce = new Map([["a.yaml", 3], ["b.yaml", 1]]);

describe("shrinkHold", () => {
  it("holds a file that lost documents while it was written less than the hold ago, until it has been quiet that long", () => {
    const hold = shrinkHold(inForce, [["a.yaml", 1], ["b.yaml", 1]], new Map([["a.yaml", 9_500], ["b.yaml", 0]]), 10_000, 2_000);
    expect(hold).toEqual({ files: [{ file: "a.yaml", had: 3, has: 1 }], waitMs: 1_500 });
  });

  it("applies the same shrink once the file went the hold without a write", () => {
    expect(shrinkHold(inForce, [["a.yaml", 1], ["b.yaml", 1]], new Map([["a.yaml", 8_000]]), 10_000, 2_000)).toBeNull();
  });

  it("never holds a file that kept or gained documents, a new file, or a deleted one", () => {
    const fresh = new Map([["a.yaml", 9_999], ["b.yaml", 9_999], ["c.yaml", 9_999]]);
    expect(shrinkHold(inForce, [["a.yaml", 3], ["b.yaml", 2], ["c.yaml", 1]], fresh, 10_000, 2_000)).toBeNull();
    expect(shrinkHold(inForce, [["a.yaml", 3]], fresh, 10_000, 2_000)).toBeNull();
  });

  it("waits for the file written last, and holds a file emptied too (refused after the hold)", () => {
    const hold = shrinkHold(inForce, [["a.yaml", 2], ["b.yaml", 0]], new Map([["a.yaml", 9_000], ["b.yaml", 9_900]]), 10_000, 2_000);
    expect(hold?.files.map((f) => f.file)).toEqual(["a.yaml", "b.yaml"]);
    expect(hold?.waitMs).toBe(1_900);
  });
});
