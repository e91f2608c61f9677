import type { HedgePolicy, RetryPolicy } from "../resilience/policies.js";

/** What forwarding reads of a matched rule: its timeouts, retries and hedging (a CompiledRule is one). */
export interface ForwardPolicy {
  /** "namespace/name/rule", for errors and logs. */
  readonly id: string;
  readonly requestTimeoutMs: number | null;
  /** Per attempt: HTTPRoute timeouts.backendRequest, or a TrafficPolicy's retry.perTryTimeout. */
  readonly backendTimeoutMs: number | null;
  readonly retry: RetryPolicy | null;
  readonly hedge: HedgePolicy | null;
}
