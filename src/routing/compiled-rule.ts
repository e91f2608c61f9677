import type { GatewayRequest, GatewayResponse } from "../http/exchange.js";
import type { PathMatcher } from "./path-match.js";
import type { WeightedChoice } from "../upstream/weighted.js";
import type { CompiledRateLimit } from "../ratelimit/compiled.js";
import { CompiledBackend } from "../upstream/compiled-backend.js";
import { AffinityPolicy, FaultPolicy, HedgePolicy, RetryPolicy } from "../resilience/policies.js";
import { CompiledSecurity } from "../identity/compiled-security.js";
import type { ForwardPolicy } from "../upstream/forward-policy.js";
import type { MeshRef } from "./mesh.js";

export interface ValueMatcher {
  readonly name: string;
  readonly type: "Exact" | "RegularExpression";
  readonly value: string;
  test(value: string | undefined): boolean;
}

/** One (route, rule, match) triple, placed in Gateway API precedence order. */
export interface RouteEntry {
  readonly rule: CompiledRule;
  /** The route hostname this entry was reached through; null when the route has none. */
  readonly hostPattern: string | null;
  readonly path: PathMatcher;
  readonly method: string | null;
  readonly headers: readonly ValueMatcher[];
  readonly query: readonly ValueMatcher[];
  /** Set for a GRPCRoute's match: its precedence (service, then method characters) before HTTPRoute's. */
  readonly grpc?: { readonly serviceChars: number; readonly methodChars: number };
  /** Oldest route first: creationTimestamp, then "namespace/name", then rule and match index. */
  readonly age: { readonly created: string; readonly key: string; readonly rule: number; readonly match: number };
  /** Set on mesh entries (a Service parentRef, or a Service's default route); absent on ingress entries. */
  readonly mesh?: MeshRef;
}

/** A request's route: the entry that matched and its compiled rule. */
export interface RouteMatch {
  readonly entry: RouteEntry;
  readonly rule: CompiledRule;
}

/** Mutates the request on its way upstream (header modifier, URL rewrite). */
export type RequestFilter = (req: GatewayRequest, match: RouteMatch) => void;
/** Mutates the response on its way back (response header modifier, CORS headers). */
export type ResponseFilter = (res: GatewayResponse, req: GatewayRequest) => void;
/** Answers the request itself (redirect); the request goes no further. */
export type TerminalFilter = (req: GatewayRequest, match: RouteMatch) => GatewayResponse;
/** Answers CORS preflights; null when the request is not one. */
export type PreflightFilter = (req: GatewayRequest) => GatewayResponse | null;

/**
 * What a request owes the Service it goes to: the policies that target that Service, applied
 * after the backendRef is chosen, in addition to the route's (see README, "Policies that
 * follow a Service").
 */
export interface DestinationPolicies {
  /** "namespace/name" of the destination Service. */
  readonly service: string;
  /** A Service-targeted SecurityPolicy: evaluated after the route's; both must allow. */
  readonly security: CompiledSecurity | null;
  /** A Service-targeted RateLimitPolicy: counted besides the route's; either may refuse. */
  readonly rateLimit: CompiledRateLimit | null;
  /** "namespace/name" of the Service-targeted TrafficPolicy, for /config and explain. */
  readonly trafficPolicy: string | null;
  /** The Service's fault, when the rule has none of its own. */
  readonly fault: FaultPolicy | null;
  /** The Service's request body limit (applied on top of the listener's or the rule's: the lower wins). */
  readonly maxRequestBodyBytes: number | null;
  /** Timeouts, retries and hedging: the rule's own settings, each gap filled by the Service's TrafficPolicy. */
  readonly forward: ForwardPolicy;
}

export interface CompiledBackendRef {
  /** "namespace/name" as referenced; for logs and explain. */
  readonly key: string;
  /** Service-targeted policies of this ref's Service, or null when none targets it. */
  readonly destination: DestinationPolicies | null;
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
  /** A TrafficPolicy's request body limit (bytes; 0 = none), replacing the listener's; null = the listener's. */
  readonly maxRequestBodyBytes: number | null;
  /** Gateway API sessionPersistence: sticky backendRef by a gateway-issued cookie or header. */
  readonly persistence: SessionPersistencePolicy | null;
  /** "namespace/name" of the TrafficPolicy applied, for /config and explain. */
  readonly trafficPolicy: string | null;
  /** Identity and authorization for this rule (route rule > route > gateway-wide policy). */
  readonly security: CompiledSecurity | null;
  /** Request limits for this rule (route rule > route > gateway-wide policy). */
  readonly rateLimit: CompiledRateLimit | null;
}
