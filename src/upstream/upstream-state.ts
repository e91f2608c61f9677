import type { Clock } from "../http/runtime-env.js";
import type { CompiledBackend } from "./compiled-backend.js";
import { CircuitBreaker } from "../resilience/circuit-breaker.js";
import { HealthRegistry } from "../resilience/outlier.js";
import { RetryBudget } from "../resilience/retry-budget.js";

export interface BudgetLimits {
  readonly ratio: number;
  readonly minPerSecond: number;
}

/**
 * Everything about upstreams that must outlive a config swap: endpoint health and ejections,
 * breakers, retry budgets and counters. One per gateway (per isolate on Workers).
 */
export class UpstreamState {
  readonly health = new HealthRegistry();
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly budgets = new Map<string, RetryBudget>();
  readonly counters = { retries: 0, hedges: 0, ejections: 0, breakerRejections: 0, retriesSkipped: 0 };

  constructor(readonly clock: Clock) {}

  breaker(backend: CompiledBackend): CircuitBreaker | null {
    if (backend.breaker === null) return null;
    let b = this.breakers.get(backend.key);
    if (b === undefined) this.breakers.set(backend.key, (b = new CircuitBreaker(backend.breaker)));
    else b.update(backend.breaker);
    return b;
  }

  /**
   * One budget per Backend and kind: it is the backend that retry storms hurt. Hedges have a
   * bucket of their own, so hedging can never take the credit a failed request needs to retry.
   */
  budget(backend: CompiledBackend, limits: BudgetLimits, kind: "retry" | "hedge" = "retry"): RetryBudget {
    const key = `${kind}\u0000${backend.key}\u0000${limits.ratio}\u0000${limits.minPerSecond}`;
    let b = this.budgets.get(key);
    if (b === undefined) this.budgets.set(key, (b = new RetryBudget(limits.ratio, limits.minPerSecond, this.clock)));
    return b;
  }
}
