import type { PolicyIssue } from "../policy/issues.js";
import { serviceAttachments, type ServiceExists } from "../policy/attachment.js";
import type { Located } from "../policy/located.js";
import type { SecurityPolicy } from "../identity/security-policy.js";
import type { CompiledSecurity } from "../identity/compiled-security.js";
import type { RateLimitPolicy } from "../ratelimit/rate-limit-policy.js";
import { compiledRateLimit } from "../ratelimit/compile-rate-limit.js";
import type { TrafficPolicy } from "../resilience/traffic-policy.js";
import { compiledTraffic } from "../resilience/compile-traffic.js";
import type { ServicePolicies } from "../routing/compile-rule.js";
import type { PolicySet } from "./validate.js";
import type { HTTPRoute } from "../routing/httproute.js";

/**
 * The Services a policy set knows of: those with a Backend or a Service document, and those a
 * backendRef names (they exist in the cluster even when this folder does not describe them).
 */
export function knownServices(set: PolicySet): ServiceExists {
  const known = new Set<string>();
  for (const b of set.backends) known.add(`${b.doc.metadata.namespace}/${b.doc.metadata.name}`);
  for (const s of set.services) known.add(`${s.doc.metadata.namespace}/${s.doc.metadata.name}`);
  for (const r of set.routes) for (const key of routeServices(r.doc)) known.add(key);
  return (key) => known.has(key);
}

const servicesByRoute = new WeakMap<HTTPRoute, readonly string[]>();

/**
 * The Services one route names (backendRefs, Service parentRefs), once per validated document: a
 * reload hands unchanged documents back as the same (immutable) objects, so a reload of ten
 * thousand routes that changed one builds the keys of one.
 */
function routeServices(route: HTTPRoute): readonly string[] {
  let keys = servicesByRoute.get(route);
  if (keys !== undefined) return keys;
  const out: string[] = [];
  const ns = route.metadata.namespace;
  for (const rule of route.spec.rules) {
    for (const ref of rule.backendRefs) if (ref.group === "" && ref.kind === "Service") out.push(`${ref.namespace ?? ns}/${ref.name}`);
  }
  for (const p of route.spec.parentRefs) if ((p.group ?? "") === "" && p.kind === "Service") out.push(`${p.namespace ?? ns}/${p.name}`);
  servicesByRoute.set(route, (keys = out));
  return keys;
}

/** Service-targeted TrafficPolicy, SecurityPolicy and RateLimitPolicy by destination Service. */
export function destinationLookup(
  set: { readonly trafficPolicies: readonly Located<TrafficPolicy>[]; readonly securityPolicies: readonly Located<SecurityPolicy>[]; readonly rateLimitPolicies: readonly Located<RateLimitPolicy>[] },
  security: ReadonlyMap<Located<SecurityPolicy>, CompiledSecurity>,
  exists: ServiceExists,
  issues: PolicyIssue[],
): (service: string) => ServicePolicies | null {
  const traffic = serviceAttachments("TrafficPolicy", set.trafficPolicies, issues, exists);
  const secured = serviceAttachments("SecurityPolicy", set.securityPolicies, issues, exists);
  const limited = serviceAttachments("RateLimitPolicy", set.rateLimitPolicies, issues, exists);
  const byService = new Map<string, ServicePolicies>();
  for (const key of new Set([...traffic.keys(), ...secured.keys(), ...limited.keys()])) {
    const t = traffic.get(key);
    // Affinity chooses between a rule's backendRefs, which a Service's own policy cannot see.
    const s = secured.get(key);
    const l = limited.get(key);
    byService.set(key, {
      traffic: t === undefined ? null : compiledTraffic(t.doc),
      security: s === undefined ? null : security.get(s)!,
      rateLimit: l === undefined ? null : compiledRateLimit(l.doc),
    });
  }
  return (service) => byService.get(service) ?? null;
}
