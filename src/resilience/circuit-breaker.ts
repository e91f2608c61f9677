import { GatewayError } from "../http/gateway-error.js";

export interface BreakerLimits {
  readonly maxRequests: number;
  readonly maxPendingRequests: number;
}

/**
 * Caps concurrent requests to one Backend. Over the cap a request waits in a bounded queue;
 * past the queue it is answered 503 at once: a fast, clear refusal beats piling onto a
 * backend that is already saturated.
 */
export class CircuitBreaker {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  rejected = 0;

  constructor(private limits: BreakerLimits) {}

  update(limits: BreakerLimits): void {
    this.limits = limits;
  }

  get inFlight(): number {
    return this.active;
  }

  /** Resolves with a release function; rejects with `backend_overloaded` when over the limits. */
  acquire(backend: string, signal?: AbortSignal): Promise<() => void> | (() => void) {
    if (this.active < this.limits.maxRequests) {
      this.active++;
      return this.releaser();
    }
    if (this.waiting.length >= this.limits.maxPendingRequests) {
      this.rejected++;
      throw new GatewayError("backend_overloaded", `backend ${backend} is at its limit of ${this.limits.maxRequests} concurrent requests`, [["x-meshgate-flags", "UO"]]);
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        this.active++;
        resolve(this.releaser());
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(grant);
        if (i !== -1) this.waiting.splice(i, 1);
        reject(signal?.reason);
      };
      this.waiting.push(grant);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.active--;
      this.waiting.shift()?.();
    };
  }
}
