/** What one status class counts in a window: requests, 4xx, 5xx. */
export interface WindowCounts {
  readonly requests: number;
  readonly clientErrors: number;
  readonly serverErrors: number;
}

const SLOTS = 60;

/**
 * Requests, 4xx and 5xx over the last 60 seconds, in one-second slots: constant memory and an
 * O(1) add on the request path; reading sums the slots still inside the window.
 */
export class RateWindow {
  private readonly second = new Float64Array(SLOTS).fill(-1);
  private readonly counts = new Uint32Array(SLOTS * 3);

  add(nowMs: number, status: number): void {
    const second = Math.floor(nowMs / 1000);
    const slot = second % SLOTS;
    const base = slot * 3;
    if (this.second[slot] !== second) {
      this.second[slot] = second;
      this.counts[base] = this.counts[base + 1] = this.counts[base + 2] = 0;
    }
    this.counts[base]!++;
    if (status >= 500) this.counts[base + 2]!++;
    else if (status >= 400) this.counts[base + 1]!++;
  }

  /** Counts in the 60 seconds up to `nowMs` (the current, partial second included). */
  lastMinute(nowMs: number): WindowCounts {
    const now = Math.floor(nowMs / 1000);
    let requests = 0;
    let clientErrors = 0;
    let serverErrors = 0;
    for (let slot = 0; slot < SLOTS; slot++) {
      const s = this.second[slot]!;
      if (s <= now - SLOTS || s > now) continue;
      requests += this.counts[slot * 3]!;
      clientErrors += this.counts[slot * 3 + 1]!;
      serverErrors += this.counts[slot * 3 + 2]!;
    }
    return { requests, clientErrors, serverErrors };
  }
}
