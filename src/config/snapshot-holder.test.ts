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

describe("SnapshotHolder refusing empty reloads (torn writes)", () => {
  const backend = { name: "b.yaml", text: "apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: echo }\nspec: { endpoints: [{ url: 'http://127.0.0.1:1' }] }\n" };
  const two = [backend, good[0]!];

  it("refuses a file that had documents and has none, and a change that leaves no route; keeps the last good one", async () => {
    const holder = new SnapshotHolder({ refuseEmptyReload: true });
    await holder.load(two, source);
    const before = holder.current();
    const truncated = await holder.load([backend, { name: "r.yaml", text: "" }], source);
    expect(truncated.ok).toBe(false);
    expect(!truncated.ok && truncated.failure.refused).toBe(true);
    expect(holder.lastFailure?.message).toMatch(/^reload refused: r\.yaml \(had 1\) has no documents now;/);
    expect(holder.current()).toBe(before);
    // Only comments (an editor's half-saved header) is no document either.
    expect((await holder.load([backend, { name: "r.yaml", text: "# routes\n---\n" }], source)).ok).toBe(false);
    // The route file deleted on purpose, with another file left: no route remains, so refused too.
    const noRoutes = await holder.load([backend], source);
    expect(!noRoutes.ok && noRoutes.failure.message).toMatch(/no routes \(the one in force has 1\)/);
    expect(holder.current()).toBe(before);
  });

  it("applies a deleted file that leaves routes, and everything when not asked to refuse", async () => {
    const holder = new SnapshotHolder({ refuseEmptyReload: true });
    await holder.load([...two, { name: "extra.yaml", text: good[0]!.text.replace("name: r", "name: r2") }], source);
    const deleted = await holder.load(two, source);
    expect(deleted.ok && deleted.changed).toBe(true);
    const permissive = new SnapshotHolder();
    await permissive.load(two, source);
    const emptied = await permissive.load([backend, { name: "r.yaml", text: "" }], source);
    expect(emptied.ok && emptied.changed).toBe(true);
    expect(permissive.current().counts.routes).toBe(0);
  });

  it("compiles, counts and reports the same failing sources once", async () => {
    const holder = new SnapshotHolder({ refuseEmptyReload: true });
    await holder.load(good, source);
    const first = await holder.load(bad, source);
    const again = await holder.load(bad, source);
    expect(!first.ok && first.repeated).toBe(false);
    expect(!again.ok && again.repeated).toBe(true);
    expect(holder.reloadErrors).toBe(1);
  });
});
