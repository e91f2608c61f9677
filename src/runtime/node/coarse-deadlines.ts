/** Something with a deadline the sweep checks: an upstream exchange waiting for headers or body bytes. */
export interface Watched {
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
  private readonly watched = new Set<Watched>();
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
    this.watched.add(watched);
    if (this.timer === null) {
      this.timer = setInterval(this.sweep, this.periodMs);
      // A sweep never keeps the process alive; the requests it watches do.
      this.timer.unref();
    }
  }

  delete(watched: Watched): void {
    this.watched.delete(watched);
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.watched.clear();
  }

  private readonly sweep = () => {
    const tick = ++this.current;
    // Idle for a whole period: stop until the next request (no wake-ups on an idle gateway).
    if (this.watched.size === 0) {
      clearInterval(this.timer!);
      this.timer = null;
      return;
    }
    for (const watched of this.watched) {
      if (!watched.due(tick)) continue;
      this.watched.delete(watched);
      watched.expire();
    }
  };
}
