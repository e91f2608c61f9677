/**
 * Abort fan-out without a listener per request. A long-lived signal (one per client connection)
 * gets one event listener for its lifetime; requests join and leave a set. Cheaper than
 * AbortSignal.any, which on Node 20 tracks every source with weak references and showed up as GC
 * pressure in the benchmark, and than add/removeEventListener per request.
 */
const groups = new WeakMap<AbortSignal, Set<(reason: unknown) => void>>();

/** Calls `fn` when `signal` aborts (at once if it already has); returns a function that leaves. */
export function onAbort(signal: AbortSignal, fn: (reason: unknown) => void): () => void {
  if (signal.aborted) {
    fn(signal.reason);
    return () => undefined;
  }
  let group = groups.get(signal);
  if (group === undefined) {
    const members = (group = new Set());
    groups.set(signal, members);
    signal.addEventListener("abort", () => {
      for (const member of members) member(signal.reason);
      members.clear();
    }, { once: true });
  }
  group.add(fn);
  const members = group;
  return () => void members.delete(fn);
}

export interface LinkedController {
  readonly controller: AbortController;
  /** Detach from the parents once the work is done. */
  unlink(): void;
}

/** A controller that aborts when any parent does. */
export function linkedController(...parents: (AbortSignal | undefined)[]): LinkedController {
  const controller = new AbortController();
  const abort = (reason: unknown) => controller.abort(reason);
  const leaves = parents.filter((p): p is AbortSignal => p !== undefined).map((p) => onAbort(p, abort));
  return { controller, unlink: () => leaves.forEach((leave) => leave()) };
}
