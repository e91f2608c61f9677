import type { Clock } from "../http/runtime-env.js";

/**
 * A token bucket that bounds extra upstream attempts (retries, or hedges with their own bucket)
 * as a share of requests, in every window, not on average (Finagle/Linkerd's budget, with a cap):
 *
 * - every request deposits `ratio` tokens; time deposits `minPerSecond` tokens per second;
 * - every extra attempt withdraws one token, and none is made without one;
 * - the balance never exceeds `capacity` = max(1, minPerSecond), so quiet healthy traffic cannot
 *   save credit for the start of an outage.
 *
 * Hence, over ANY interval of T seconds: extra attempts ≤ ratio × requests + minPerSecond × T + capacity.
 * (The old 10-slot window let healthy seconds pay for a burst at the start of an outage.)
 */
export class RetryBudget {
  private balance: number;
  private last: number;
  readonly capacity: number;

  constructor(
    readonly ratio: number,
    readonly minPerSecond: number,
    private readonly clock: Clock,
  ) {
    this.capacity = Math.max(1, minPerSecond);
    this.balance = this.capacity;
    this.last = clock.now();
  }

  /** One client request: its share of credit. */
  recordRequest(): void {
    this.refill();
    this.balance = Math.min(this.capacity, this.balance + this.ratio);
  }

  /** Takes one extra attempt from the budget; false when there is no whole token. */
  tryWithdraw(): boolean {
    this.refill();
    // Tolerance: five deposits of 0.2 make 0.9999999999999999 in floating point.
    if (this.balance < 1 - 1e-9) return false;
    this.balance = Math.max(0, this.balance - 1);
    return true;
  }

  /** Tokens available now (for /config and tests). */
  get available(): number {
    this.refill();
    return this.balance;
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = now - this.last;
    this.last = now;
    if (elapsed > 0 && this.minPerSecond > 0) this.balance = Math.min(this.capacity, this.balance + (this.minPerSecond * elapsed) / 1000);
  }
}
