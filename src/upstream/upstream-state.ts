import type { Clock } from "../pipeline/runtime-env.js";
import type { CompiledBackend, RetryPolicy } from "../policy/snapshot.js";
import { CircuitBreaker } from "./circuit-breaker.js";
import { HealthRegistry } from "./outlier.js";
import { RetryBudget } from "./retry-budget.js";

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

  /** One budget per Backend: it is the backend that retry storms hurt. */
  budget(backend: CompiledBackend, retry: RetryPolicy): RetryBudget {
    const key = `${backend.key}\u0000${retry.budget.ratio}\u0000${retry.budget.minPerSecond}`;
    let b = this.budgets.get(key);
    if (b === undefined) this.budgets.set(key, (b = new RetryBudget(retry.budget.ratio, retry.budget.minPerSecond, this.clock)));
    return b;
  }
}
