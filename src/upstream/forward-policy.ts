import type { HedgePolicy, RetryPolicy } from "../resilience/policies.js";
import type { HashKey } from "./hash-point.js";

/** What forwarding reads of a matched rule: its timeouts, retries and hedging (a CompiledRule is one). */
export interface ForwardPolicy {
  /** "namespace/name/rule", for errors and logs. */
  readonly id: string;
  readonly requestTimeoutMs: number | null;
  /** Per attempt: HTTPRoute timeouts.backendRequest, or a TrafficPolicy's retry.perTryTimeout. */
  readonly backendTimeoutMs: number | null;
  readonly retry: RetryPolicy | null;
  readonly hedge: HedgePolicy | null;
  /** A Service-targeted TrafficPolicy's sessionAffinity: the endpoint is chosen by this key's hash (unless the Backend sets its own loadBalancer). */
  readonly endpointHash?: HashKey | null;
}
