import type { PolicyIssue } from "../issues.js";
import type { HTTPRoute, TrafficPolicy } from "../schema/index.js";
import type { AffinityPolicy, FaultPolicy, HedgePolicy, RetryPolicy } from "../snapshot.js";
import type { Located } from "../validate.js";

export interface RuleTraffic {
  readonly name: string;
  readonly retry: RetryPolicy | null;
  readonly perTryTimeoutMs: number | null;
  readonly hedge: HedgePolicy | null;
  readonly fault: FaultPolicy | null;
  readonly affinity: AffinityPolicy | null;
}

/** Finds the TrafficPolicy for one rule: a sectionName target beats a whole-route one; then oldest, then name. */
export type TrafficLookup = (route: HTTPRoute, ruleName: string | undefined) => RuleTraffic | null;

export function trafficLookup(policies: readonly Located<TrafficPolicy>[], routes: readonly Located<HTTPRoute>[], issues: PolicyIssue[]): TrafficLookup {
  const byRoute = new Map<string, { section: string | undefined; policy: Located<TrafficPolicy> }[]>();
  for (const p of policies) {
    const ns = p.doc.metadata.namespace;
    p.doc.spec.targetRefs.forEach((ref, i) => {
      const path = ["spec", "targetRefs", i];
      if (ref.group !== "gateway.networking.k8s.io" || ref.kind !== "HTTPRoute") {
        issues.push({ file: p.file, index: p.index, severity: "warning", path: [...path, "kind"], message: `TrafficPolicy targets HTTPRoutes only; ${ref.group}/${ref.kind} ignored` });
        return;
      }
      const route = routes.find((r) => r.doc.metadata.namespace === ns && r.doc.metadata.name === ref.name);
      if (route === undefined) {
        issues.push({ file: p.file, index: p.index, severity: "warning", path: [...path, "name"], message: `no HTTPRoute ${ns}/${ref.name}; policy not applied there` });
        return;
      }
      if (ref.sectionName !== undefined && !route.doc.spec.rules.some((r) => r.name === ref.sectionName)) {
        issues.push({ file: p.file, index: p.index, severity: "warning", path: [...path, "sectionName"], message: `HTTPRoute ${ns}/${ref.name} has no rule named ${ref.sectionName}` });
        return;
      }
      const key = `${ns}/${ref.name}`;
      byRoute.set(key, [...(byRoute.get(key) ?? []), { section: ref.sectionName, policy: p }]);
    });
  }
  const cache = new Map<Located<TrafficPolicy>, RuleTraffic>();
  return (route, ruleName) => {
    const candidates = (byRoute.get(`${route.metadata.namespace}/${route.metadata.name}`) ?? []).filter((c) => c.section === undefined || c.section === ruleName);
    if (candidates.length === 0) return null;
    candidates.sort((a, b) => Number(b.section !== undefined) - Number(a.section !== undefined) || age(a.policy).localeCompare(age(b.policy)));
    const chosen = candidates[0]!.policy;
    let compiled = cache.get(chosen);
    if (compiled === undefined) cache.set(chosen, (compiled = compileTraffic(chosen.doc)));
    return compiled;
  };
}

function age(p: Located<TrafficPolicy>): string {
  return `${p.doc.metadata.creationTimestamp ?? ""}\u0000${p.doc.metadata.namespace}/${p.doc.metadata.name}`;
}

function compileTraffic(doc: TrafficPolicy): RuleTraffic {
  const { retry, hedge, fault, sessionAffinity } = doc.spec;
  return {
    name: `${doc.metadata.namespace}/${doc.metadata.name}`,
    retry: retry
      ? {
          attempts: retry.attempts,
          codes: new Set(retry.codes),
          onConnectFailure: retry.on.includes("connect-failure"),
          onReset: retry.on.includes("reset"),
          onTimeout: retry.on.includes("timeout"),
          backoffMs: retry.backoff.base,
          backoffMaxMs: retry.backoff.max,
          budget: retry.budget,
          nonIdempotent: retry.nonIdempotent,
          maxBufferBytes: retry.maxBufferBytes,
        }
      : null,
    perTryTimeoutMs: retry?.perTryTimeout ?? null,
    hedge: hedge ? { delayMs: hedge.delay, maxHedges: hedge.maxHedges } : null,
    fault: fault
      ? {
          abort: fault.abort ? { status: fault.abort.status, fraction: fault.abort.percentage / 100 } : null,
          delay: fault.delay ? { ms: fault.delay.duration, fraction: fault.delay.percentage / 100 } : null,
          header: fault.header ?? null,
        }
      : null,
    affinity: sessionAffinity ? { header: sessionAffinity.header ?? null, cookie: sessionAffinity.cookie ?? null } : null,
  };
}
