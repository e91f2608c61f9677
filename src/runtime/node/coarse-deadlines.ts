/** Something with a deadline the sweep checks: an upstream exchange waiting for headers or body bytes. */
export interface Watched {
  /** Where the sweep keeps it (-1: not watched); the sweep's own field, so joining and leaving hash nothing. */
  sweepSlot: number;
  /** Is it past its deadline at sweep tick `tick`? */
  due(tick: number): boolean;
  /** Called once, when due; the watch is already removed. */
  expire(): void;
}

/**
 * Deadlines of seconds (the 15 s / 60 s upstream defaults every request carries) checked by one
 * sweep a few times a second, instead of a timer per request. undici's per-request timer for
 * them outlived a young-generation GC on every request: it tripled the bytes promoted to old
 * space, and so the full GCs, of a request that takes a millisecond.
 *
 * Time is counted in ticks of `periodMs`; a mark taken anywhere inside a tick counts from the
 * tick's start, so `ticksFor` adds one tick: a deadline never fires early and at most two
 * periods late.
 */
export class CoarseDeadlines {
  private current = 0;
  private readonly watched: Watched[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(readonly periodMs: number) {}

  /** The current tick: what a watched exchange stores as its mark. */
  get tick(): number {
    return this.current;
  }

  /** Whole ticks after a mark at which `ms` has certainly passed. */
  ticksFor(ms: number): number {
    return Math.ceil(ms / this.periodMs) + 1;
  }

  add(watched: Watched): void {
    if (watched.sweepSlot >= 0) return;
    watched.sweepSlot = this.watched.length;
    this.watched.push(watched);
    if (this.timer === null) {
      this.timer = setInterval(this.sweep, this.periodMs);
      // A sweep never keeps the process alive; the requests it watches do.
      this.timer.unref();
    }
  }

  delete(watched: Watched): void {
    const slot = watched.sweepSlot;
    if (slot < 0) return;
    watched.sweepSlot = -1;
    const last = this.watched.pop()!;
    if (last !== watched) {
      this.watched[slot] = last;
      last.sweepSlot = slot;
    }
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const watched of this.watched) watched.sweepSlot = -1;
    this.watched.length = 0;
  }

  private readonly sweep = () => {
    const tick = ++this.current;
    // Idle for a whole period: stop until the next request (no wake-ups on an idle gateway).
    if (this.watched.length === 0) {
      clearInterval(this.timer!);
      this.timer = null;
      return;
    }
    // Backwards: a removal moves the last entry into the slot already passed.
    for (let i = this.watched.length - 1; i >= 0; i--) {
      const watched = this.watched[i];
      if (watched === undefined || !watched.due(tick)) continue;
      this.delete(watched);
      watched.expire();
    }
  };
}
