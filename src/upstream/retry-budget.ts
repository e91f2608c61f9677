import type { Clock } from "../pipeline/runtime-env.js";

const WINDOW_SECONDS = 10;

/**
 * Retries may add at most `ratio` of the requests seen in the last 10 s, plus `minPerSecond`
 * per second of window, so retries can never multiply load when a backend is failing.
 * (Linkerd's budget: deposits per request, withdrawals per retry, a reserve floor.)
 */
export class RetryBudget {
  private readonly requests = new Array<number>(WINDOW_SECONDS).fill(0);
  private readonly retries = new Array<number>(WINDOW_SECONDS).fill(0);
  private second = 0;

  constructor(
    private readonly ratio: number,
    private readonly minPerSecond: number,
    private readonly clock: Clock,
  ) {
    this.second = Math.floor(clock.now() / 1000);
  }

  recordRequest(): void {
    this.roll();
    this.requests[this.second % WINDOW_SECONDS]!++;
  }

  /** Takes one retry from the budget; false when it is spent. */
  tryWithdraw(): boolean {
    this.roll();
    const requests = sum(this.requests);
    const retries = sum(this.retries);
    if (retries + 1 > this.ratio * requests + this.minPerSecond * WINDOW_SECONDS) return false;
    this.retries[this.second % WINDOW_SECONDS]!++;
    return true;
  }

  private roll(): void {
    const now = Math.floor(this.clock.now() / 1000);
    if (now === this.second) return;
    const steps = Math.min(now - this.second, WINDOW_SECONDS);
    for (let i = 1; i <= steps; i++) {
      const slot = (this.second + i) % WINDOW_SECONDS;
      this.requests[slot] = 0;
      this.retries[slot] = 0;
    }
    this.second = now;
  }
}

function sum(a: readonly number[]): number {
  let s = 0;
  for (const v of a) s += v;
  return s;
}
