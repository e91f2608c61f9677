import { describe, expect, it } from "vitest";
import { SnapshotHolder } from "./snapshot-holder.js";

const good = [{ name: "r.yaml", text: "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r }\nspec: { rules: [{ backendRefs: [{ name: echo }] }] }\n" }];
const bad = [{ name: "r.yaml", text: "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r }\nspec: { rulez: [] }\n" }];
const source = { location: "test", files: ["r.yaml"] };

describe("SnapshotHolder", () => {
  it("keeps the snapshot in force for unchanged sources, and a reverted edit clears the error", async () => {
    const holder = new SnapshotHolder();
    const first = await holder.load(good, source);
    expect(first.ok && first.changed).toBe(true);
    const again = await holder.load(good, source);
    expect(again.ok && !again.changed && again.snapshot).toBe(holder.current());
    expect((await holder.load(bad, source)).ok).toBe(false);
    expect(holder.lastFailure?.message).toMatch(/rulez/);
    const reverted = await holder.load(good, source);
    expect(reverted.ok && !reverted.changed).toBe(true);
    expect(holder.lastFailure).toBeNull();
    expect(holder.reloads).toBe(1);
  });
});
