import { describe, expect, it } from "vitest";
import { linkedController, onAbort } from "./abort-link.js";

describe("onAbort", () => {
  it("calls every member still joined, once, with the reason; members that left are not called", () => {
    const controller = new AbortController();
    const calls: string[] = [];
    const leaves = ["a", "b", "c", "d", "e"].map((name) => onAbort(controller.signal, (reason) => calls.push(`${name}:${String(reason)}`)));
    // Leave out of order (first, middle, last), and one twice: the others keep their places.
    leaves[0]!();
    leaves[2]!();
    leaves[4]!();
    leaves[2]!();
    controller.abort("gone");
    controller.abort("again");
    expect(calls.sort()).toEqual(["b:gone", "d:gone"]);
  });

  it("joins nothing without a signal, and leaving then is harmless", () => {
    let called = false;
    const leave = onAbort(undefined, () => (called = true));
    leave();
    leave();
    expect(called).toBe(false);
  });

  it("calls at once when the signal has already aborted", () => {
    const controller = new AbortController();
    controller.abort("before");
    let seen: unknown = null;
    onAbort(controller.signal, (reason) => (seen = reason))();
    expect(seen).toBe("before");
  });

  it("keeps one listener per signal however many requests join and leave", () => {
    const controller = new AbortController();
    let added = 0;
    const add = controller.signal.addEventListener.bind(controller.signal);
    controller.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      added++;
      add(...args);
    }) as typeof add;
    const alive = new Set<number>();
    const leaves = new Map<number, () => void>();
    for (let i = 0; i < 1000; i++) {
      leaves.set(i, onAbort(controller.signal, () => alive.delete(i)));
      alive.add(i);
      if (i % 3 === 0) {
        const victim = (i * 7919) % (i + 1);
        leaves.get(victim)?.();
        leaves.delete(victim);
        alive.delete(victim);
      }
    }
    const expected = new Set(alive);
    const called = new Set<number>();
    for (const i of expected) leaves.set(i, onAbort(controller.signal, () => called.add(i)));
    controller.abort();
    expect(added).toBe(1);
    expect(called).toEqual(expected);
    expect(alive.size).toBe(0);
  });

  it("linkedController aborts with its parent and detaches on unlink", () => {
    const parent = new AbortController();
    const linked = linkedController(parent.signal, undefined);
    const other = linkedController(parent.signal);
    other.unlink();
    parent.abort("parent");
    expect(linked.controller.signal.reason).toBe("parent");
    expect(other.controller.signal.aborted).toBe(false);
  });
});
