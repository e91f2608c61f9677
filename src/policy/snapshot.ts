import type { GatewayRequest, GatewayResponse } from "../pipeline/exchange.js";
import type { PolicyIssue } from "./issues.js";
import type { RouteTable } from "./compile/route-table.js";
import type { RouteMatch } from "./compile/route-table.js";
import type { WeightedChoice } from "../upstream/weighted.js";
import type { OutlierPolicy } from "../upstream/outlier.js";
import type { BreakerLimits } from "../upstream/circuit-breaker.js";
import type { SecurityPolicy } from "./schema/index.js";
import type { UpstreamTls } from "../upstream/transport.js";
import type { CompiledRateLimit } from "../ratelimit/compiled.js";
import type { Authorization } from "../pipeline/authorize/authorization.js";
import type { CidrSet } from "../pipeline/hygiene/cidr.js";

/** Mutates the request on its way upstream (header modifier, URL rewrite). */
export type RequestFilter = (req: GatewayRequest, match: RouteMatch) => void;
/** Mutates the response on its way back (response header modifier, CORS headers). */
export type ResponseFilter = (res: GatewayResponse, req: GatewayRequest) => void;
/** Answers the request itself (redirect); the request goes no further. */
export type TerminalFilter = (req: GatewayRequest, match: RouteMatch) => GatewayResponse;
/** Answers CORS preflights; null when the request is not one. */
export type PreflightFilter = (req: GatewayRequest) => GatewayResponse | null;

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
}

export interface CompiledBackendRef {
  /** "namespace/name" as referenced; for logs and explain. */
  readonly key: string;
  readonly weight: number;
  /** null when the ref did not resolve: its share of traffic answers 500. */
  readonly backend: CompiledBackend | null;
  readonly requestFilters: readonly RequestFilter[];
  readonly responseFilters: readonly ResponseFilter[];
}

export interface MirrorTarget {
  readonly backend: CompiledBackend | null;
  /** Probability in [0, 1] that a request is mirrored. */
  readonly fraction: number;
}

export interface RetryPolicy {
  /** Retries after the first try (Gateway API `attempts`). */
  readonly attempts: number;
  readonly codes: ReadonlySet<number>;
  readonly onConnectFailure: boolean;
  readonly onReset: boolean;
  readonly onTimeout: boolean;
  /** Base delay; grows exponentially with jitter up to `backoffMaxMs`. */
  readonly backoffMs: number;
  readonly backoffMaxMs: number;
  readonly budget: { readonly ratio: number; readonly minPerSecond: number };
  /** Retry POST/PATCH too (a connect failure is always retried: nothing was sent). */
  readonly nonIdempotent: boolean;
  readonly maxBufferBytes: number;
}

export interface HedgePolicy {
  readonly delayMs: number;
  readonly maxHedges: number;
  /** Hedges' own token bucket (per Backend), separate from the retry budget. */
  readonly budget: { readonly ratio: number; readonly minPerSecond: number };
}

export interface FaultPolicy {
  readonly abort: { readonly status: number; readonly fraction: number } | null;
  readonly delay: { readonly ms: number; readonly fraction: number } | null;
  /** Lower-case header name; when set only requests carrying it are affected. */
  readonly header: string | null;
}

export interface AffinityPolicy {
  readonly header: string | null;
  readonly cookie: string | null;
}

/** A SecurityPolicy as the pipeline needs it; its runtime parts (key sets, caches) are built per pipeline. */
export interface CompiledSecurity {
  /** "namespace/name" */
  readonly name: string;
  readonly spec: SecurityPolicy["spec"];
  readonly authorization: Authorization | null;
  readonly dryRun: boolean;
  /** Peers whose x-forwarded-client-cert is believed; null: nobody's. */
  readonly forwardedCertificateFrom: CidrSet | null;
}

/** Gateway API sessionPersistence of a rule, with a token per backendRef. */
export interface SessionPersistencePolicy {
  readonly name: string;
  readonly type: "Cookie" | "Header";
  readonly absoluteTimeoutSeconds: number | null;
  readonly idleTimeoutSeconds: number | null;
  /** Cookie lifetimeType Permanent: Max-Age = absoluteTimeout. */
  readonly permanent: boolean;
  readonly refs: ReadonlyMap<string, CompiledBackendRef>;
  readonly fingerprints: ReadonlyMap<CompiledBackendRef, string>;
}

/** One HTTPRoute rule, compiled: everything a request needs after it matched. */
export interface CompiledRule {
  /** "namespace/name/rule-name-or-index" */
  readonly id: string;
  readonly route: { readonly namespace: string; readonly name: string };
  readonly ruleIndex: number;
  readonly preflight: PreflightFilter | null;
  readonly requestFilters: readonly RequestFilter[];
  readonly redirect: TerminalFilter | null;
  readonly mirrors: readonly MirrorTarget[];
  readonly responseFilters: readonly ResponseFilter[];
  /** null when the rule has no backendRefs, or all weights are zero: answers 500. */
  readonly backends: WeightedChoice<CompiledBackendRef> | null;
  readonly backendRefs: readonly CompiledBackendRef[];
  readonly requestTimeoutMs: number | null;
  /** Per attempt: HTTPRoute timeouts.backendRequest, or a TrafficPolicy's retry.perTryTimeout. */
  readonly backendTimeoutMs: number | null;
  readonly retry: RetryPolicy | null;
  readonly hedge: HedgePolicy | null;
  readonly fault: FaultPolicy | null;
  readonly affinity: AffinityPolicy | null;
  /** Gateway API sessionPersistence: sticky backendRef by a gateway-issued cookie or header. */
  readonly persistence: SessionPersistencePolicy | null;
  /** "namespace/name" of the TrafficPolicy applied, for /config and explain. */
  readonly trafficPolicy: string | null;
  /** Identity and authorization for this rule (route rule > route > gateway-wide policy). */
  readonly security: CompiledSecurity | null;
  /** Request limits for this rule (route rule > route > gateway-wide policy). */
  readonly rateLimit: CompiledRateLimit | null;
}

export interface SnapshotSource {
  /** Where the policies came from: a directory, a file, a store key. */
  readonly location: string;
  readonly files: readonly string[];
}

/** The compiled configuration. Immutable; a reload builds a new one and swaps it in. */
export interface Snapshot {
  readonly version: string;
  /** SHA-256 of the documents, hex. */
  readonly hash: string;
  readonly source: SnapshotSource;
  readonly loadedAt: Date;
  readonly routes: RouteTable;
  readonly backends: ReadonlyMap<string, CompiledBackend>;
  readonly warnings: readonly PolicyIssue[];
  /** Identity headers the gateway writes: removed from every incoming request, whatever its route. */
  readonly identityHeaders: ReadonlySet<string>;
  /** Every SecurityPolicy in force, so key sets can be fetched as soon as the snapshot loads. */
  readonly securityPolicies: readonly CompiledSecurity[];
  readonly counts: { readonly routes: number; readonly rules: number; readonly backends: number; readonly trafficPolicies: number; readonly securityPolicies: number; readonly rateLimitPolicies: number };
}
