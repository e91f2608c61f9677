import type { WeightedChoice } from "./weighted.js";
import type { HashKey } from "./hash-point.js";
import type { OutlierPolicy } from "../resilience/outlier.js";
import type { BreakerLimits } from "../resilience/circuit-breaker.js";
import type { ConnectionPolicy, UpstreamTls } from "./transport.js";
import type { UpstreamProtocol } from "./app-protocol.js";

export interface CompiledEndpoint {
  /** `scheme://host:port`, the transport's pool key. */
  readonly origin: string;
  readonly weight: number;
  readonly priority: number;
  readonly zone: string | null;
  readonly cluster: string | null;
}

export interface PriorityLevel {
  readonly priority: number;
  readonly endpoints: readonly CompiledEndpoint[];
  readonly totalWeight: number;
}

export interface HealthCheckPolicy {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

/** A resolved Backend: where the traffic for one backendRef goes. */
export interface CompiledBackend {
  /** "namespace/name" */
  readonly key: string;
  readonly endpoints: readonly CompiledEndpoint[];
  /** Priority levels, best (lowest number) first. */
  readonly levels: readonly PriorityLevel[];
  /** Weighted choice over the best level: the fast path while everything is healthy. */
  readonly choose: WeightedChoice<CompiledEndpoint>;
  readonly outlier: OutlierPolicy;
  readonly breaker: BreakerLimits | null;
  readonly healthCheck: HealthCheckPolicy | null;
  /** TLS to https endpoints (CA, server name, client certificate), or null for defaults. */
  readonly tls: UpstreamTls | null;
  /** Connection limits and pool settings per endpoint, with the defaults filled in. */
  readonly connection: ConnectionPolicy;
  /** Per-attempt timeouts with the defaults filled in; 0 = none. */
  readonly timeouts: { readonly responseHeadersMs: number; readonly streamIdleMs: number };
  /** loadBalancer ConsistentHash: the endpoint is chosen by a hash of this header or cookie; null/absent = weighted random. */
  readonly hashOn?: HashKey | null;
  /** Kubernetes appProtocol: of the Service port the backendRef named (v1 Service or Backend `ports`), else the Backend's; or null. */
  readonly appProtocol?: string | null;
  /** What the transport speaks to the endpoints: `upstreamProtocol(appProtocol)`, or HTTP/2 for a GRPCRoute's refs. */
  readonly protocol: UpstreamProtocol;
  /** Whether the Backend wrote each timeout itself (then a route's `request: 0s` does not lift it). */
  readonly explicitTimeouts: { readonly responseHeaders: boolean; readonly streamIdle: boolean };
}
