import type { PolicyIssue } from "../policy/issues.js";
import type { TrafficPolicy } from "./traffic-policy.js";
import type { AffinityPolicy, FaultPolicy, HedgePolicy, RetryPolicy } from "./policies.js";
import type { Located } from "../policy/located.js";
import { attachmentLookup, type AttachableRoute } from "../policy/attachment.js";

export interface RuleTraffic {
  readonly name: string;
  readonly retry: RetryPolicy | null;
  readonly perTryTimeoutMs: number | null;
  readonly hedge: HedgePolicy | null;
  readonly fault: FaultPolicy | null;
  readonly affinity: AffinityPolicy | null;
  readonly maxRequestBodyBytes: number | null;
}

/** Finds the TrafficPolicy for one rule: a sectionName target beats a whole-route one; then oldest, then name. */
export type TrafficLookup<R extends AttachableRoute = AttachableRoute> = (route: R, ruleName: string | undefined) => RuleTraffic | null;

export function trafficLookup<R extends AttachableRoute>(policies: readonly Located<TrafficPolicy>[], routes: readonly Located<R>[], issues: PolicyIssue[]): TrafficLookup<R> {
  const find = attachmentLookup("TrafficPolicy", policies, routes, issues, { gatewayWide: false });
  return (route, ruleName) => {
    const chosen = find(route, ruleName);
    return chosen === null ? null : compiledTraffic(chosen.doc);
  };
}

const compiledByDoc = new WeakMap<TrafficPolicy, RuleTraffic>();

/**
 * compileTraffic once per validated document: a reload hands an unchanged document back as the
 * same (immutable) object, and the compiled routes it reuses hold this compiled form.
 */
export function compiledTraffic(doc: TrafficPolicy): RuleTraffic {
  let compiled = compiledByDoc.get(doc);
  if (compiled === undefined) compiledByDoc.set(doc, (compiled = compileTraffic(doc)));
  return compiled;
}

/** Envoy's gRPC retry_on names and the statuses they stand for. */
const GRPC_RETRY_ON = { cancelled: 1, "deadline-exceeded": 4, "resource-exhausted": 8, internal: 13, unavailable: 14 } as const;

/** One TrafficPolicy into what a rule (or a Service destination) applies. */
export function compileTraffic(doc: TrafficPolicy): RuleTraffic {
  const { retry, hedge, fault, sessionAffinity, maxRequestBodyBytes } = doc.spec;
  return {
    name: `${doc.metadata.namespace}/${doc.metadata.name}`,
    retry: retry
      ? {
          attempts: retry.attempts,
          codes: new Set(retry.codes),
          onConnectFailure: retry.on.includes("connect-failure"),
          onReset: retry.on.includes("reset"),
          onTimeout: retry.on.includes("timeout"),
          grpcStatuses: new Set(retry.on.flatMap((o) => (o in GRPC_RETRY_ON ? [GRPC_RETRY_ON[o as keyof typeof GRPC_RETRY_ON]] : []))),
          backoffMs: retry.backoff.base,
          backoffMaxMs: retry.backoff.max,
          budget: retry.budget,
          nonIdempotent: retry.nonIdempotent,
          maxBufferBytes: retry.maxBufferBytes,
        }
      : null,
    perTryTimeoutMs: retry?.perTryTimeout ?? null,
    hedge: hedge ? { delayMs: hedge.delay, maxHedges: hedge.maxHedges, budget: hedge.budget } : null,
    fault: fault
      ? {
          abort: fault.abort ? { status: fault.abort.status, fraction: fault.abort.percentage / 100 } : null,
          delay: fault.delay ? { ms: fault.delay.duration, fraction: fault.delay.percentage / 100 } : null,
          header: fault.header ?? null,
        }
      : null,
    affinity: sessionAffinity ? { header: sessionAffinity.header ?? null, cookie: sessionAffinity.cookie ?? null } : null,
    maxRequestBodyBytes: maxRequestBodyBytes ?? null,
  };
}
