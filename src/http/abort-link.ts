/**
 * Abort fan-out without a listener per request. A long-lived signal (one per client connection)
 * gets one event listener for its lifetime; requests join and leave a list on it. Cheaper than
 * AbortSignal.any, which on Node 20 tracks every source with weak references and showed up as GC
 * pressure in the benchmark, and than add/removeEventListener per request.
 */
const GROUP = Symbol("meshgate.abortGroup");
type Grouped = AbortSignal & { [GROUP]?: ((reason: unknown) => void)[] };
const NOTHING = () => undefined;

/**
 * Calls `fn` when `signal` aborts (at once if it already has); returns a function that leaves.
 * No signal (an attempt nothing outside can cancel) joins nothing and leaves nothing to undo.
 * The group is an array on the signal itself: a WeakMap lookup and Set hashing per request cost
 * more than the rest of joining (a connection has one or a few requests in it at a time).
 */
export function onAbort(signal: AbortSignal | undefined, fn: (reason: unknown) => void): () => void {
  if (signal === undefined) return NOTHING;
  if (signal.aborted) {
    fn(signal.reason);
    return NOTHING;
  }
  const grouped = signal as Grouped;
  let members = grouped[GROUP];
  if (members === undefined) {
    const list: ((reason: unknown) => void)[] = (members = grouped[GROUP] = []);
    signal.addEventListener("abort", () => {
      for (const member of list.splice(0)) member(signal.reason);
    }, { once: true });
  }
  const list = members;
  list.push(fn);
  return () => {
    const at = list.lastIndexOf(fn);
    if (at < 0) return;
    // Order does not matter to an abort: the last member takes the leaver's place.
    const last = list.pop()!;
    if (at < list.length) list[at] = last;
  };
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
  const leaves = parents.map((p) => onAbort(p, abort));
  return { controller, unlink: () => leaves.forEach((leave) => leave()) };
}
