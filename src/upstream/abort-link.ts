/**
 * Child controllers that abort when a parent signal does. Cheaper than AbortSignal.any, which
 * on Node 20 tracks every source with weak references and showed up as GC pressure in the
 * benchmark: each parent gets one listener for its lifetime and children join and leave a set.
 */
const children = new WeakMap<AbortSignal, Set<AbortController>>();

export interface LinkedController {
  readonly controller: AbortController;
  /** Detach from the parents once the work is done (lets the child be collected). */
  unlink(): void;
}

export function linkedController(...parents: (AbortSignal | undefined)[]): LinkedController {
  const controller = new AbortController();
  const joined: Set<AbortController>[] = [];
  for (const parent of parents) {
    if (parent === undefined) continue;
    if (parent.aborted) {
      controller.abort(parent.reason);
      continue;
    }
    let set = children.get(parent);
    if (set === undefined) {
      const members = (set = new Set());
      children.set(parent, members);
      parent.addEventListener("abort", () => {
        for (const c of members) c.abort(parent.reason);
        members.clear();
      }, { once: true });
    }
    set.add(controller);
    joined.push(set);
  }
  return {
    controller,
    unlink() {
      for (const set of joined) set.delete(controller);
    },
  };
}
