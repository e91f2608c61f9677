import type { PolicyIssue } from "./issues.js";
import type { TargetRef } from "./target-ref.js";
import { serviceTarget } from "./service-target.js";
import type { Located } from "./located.js";
import { routeKindOf } from "./route-kind.js";

/** A policy attached with Gateway API `targetRefs`. */
export interface AttachedPolicy {
  readonly metadata: { readonly namespace: string; readonly name: string; readonly creationTimestamp?: string | undefined };
  readonly spec: { readonly targetRefs: readonly TargetRef[] };
}

/** What attachment needs of a route: its name and its rules' names (routing's kinds satisfy it). */
export interface AttachableRoute {
  readonly metadata: { readonly namespace: string; readonly name: string };
  readonly spec: { readonly rules: readonly { readonly name?: string | undefined }[] };
}

/** The policy that applies to one rule of one route, or null. */
export type AttachmentLookup<T, R extends AttachableRoute = AttachableRoute> = (route: R, ruleName: string | undefined) => Located<T> | null;

const GATEWAY_GROUP = "gateway.networking.k8s.io";

/**
 * Gateway API policy attachment: a policy naming a rule (`sectionName`) beats one naming the
 * whole route, which beats one naming the Gateway (every route); among equals the oldest, then
 * the alphabetically first, wins. Policies do not merge: the most specific one applies whole.
 */
export interface AttachmentOptions<R extends AttachableRoute = AttachableRoute> {
  /** Whether `kind: Gateway` targets are allowed (every route attached to that Gateway). */
  readonly gatewayWide: boolean;
  /** The Gateways ("ns/name") a route attached to; null when there are no Gateway documents (every route counts). */
  readonly gatewaysOf?: (route: R) => ReadonlySet<string> | null;
}

export function attachmentLookup<T extends AttachedPolicy, R extends AttachableRoute>(kind: string, policies: readonly Located<T>[], routes: readonly Located<R>[], issues: PolicyIssue[], options: AttachmentOptions<R>): AttachmentLookup<T, R> {
  const byRoute = new Map<string, { section: string | undefined; policy: Located<T> }[]>();
  const gatewayWide: { gateway: string; policy: Located<T> }[] = [];
  // Targets are found by "kind/namespace/name" in a map built once (the first route of a name
  // wins, as a search in route order would find it), not by a search of every route per target.
  let byName: Map<string, Located<R>> | null = null;
  const routeByName = (): Map<string, Located<R>> => {
    if (byName !== null) return byName;
    byName = new Map();
    for (const r of routes) {
      const key = `${routeKindOf(r.doc)}/${r.doc.metadata.namespace}/${r.doc.metadata.name}`;
      if (!byName.has(key)) byName.set(key, r);
    }
    return byName;
  };
  for (const p of policies) {
    const ns = p.doc.metadata.namespace;
    p.doc.spec.targetRefs.forEach((ref, i) => {
      const path = ["spec", "targetRefs", i];
      if (serviceTarget(ref, ns) !== null) return; // destination policies: serviceAttachments
      if (options.gatewayWide && ref.group === GATEWAY_GROUP && ref.kind === "Gateway") {
        gatewayWide.push({ gateway: `${ns}/${ref.name}`, policy: p });
        return;
      }
      if (ref.group !== GATEWAY_GROUP || (ref.kind !== "HTTPRoute" && ref.kind !== "GRPCRoute")) {
        const targets = options.gatewayWide ? "HTTPRoutes, GRPCRoutes, Gateways and Services" : "HTTPRoutes, GRPCRoutes and Services";
        issues.push({ file: p.file, index: p.index, severity: "warning", path: [...path, "kind"], message: `${kind} targets ${targets} only; ${ref.group}/${ref.kind} ignored` });
        return;
      }
      const route = routeByName().get(`${ref.kind}/${ns}/${ref.name}`);
      if (route === undefined) {
        issues.push({ file: p.file, index: p.index, severity: "warning", path: [...path, "name"], message: `no ${ref.kind} ${ns}/${ref.name}; policy not applied there` });
        return;
      }
      if (ref.sectionName !== undefined && !route.doc.spec.rules.some((r) => r.name === ref.sectionName)) {
        issues.push({ file: p.file, index: p.index, severity: "warning", path: [...path, "sectionName"], message: `${ref.kind} ${ns}/${ref.name} has no rule named ${ref.sectionName}` });
        return;
      }
      const key = `${ref.kind}/${ns}/${ref.name}`;
      byRoute.set(key, [...(byRoute.get(key) ?? []), { section: ref.sectionName, policy: p }]);
    });
  }
  const byAge = [...gatewayWide].sort((a, b) => age(a.policy).localeCompare(age(b.policy)));
  // Without Gateway documents a Gateway target means every route; with them, the routes attached to it.
  const forGateways = (route: R) => {
    const attached = options.gatewaysOf?.(route) ?? null;
    return byAge.find((g) => attached === null || attached.has(g.gateway))?.policy ?? null;
  };
  // No policy of this kind attaches anywhere (the usual case for most kinds): every rule gets none.
  if (byRoute.size === 0 && byAge.length === 0) return () => null;
  return (route, ruleName) => {
    const candidates = (byRoute.get(`${routeKindOf(route)}/${route.metadata.namespace}/${route.metadata.name}`) ?? []).filter((c) => c.section === undefined || c.section === ruleName);
    if (candidates.length === 0) return forGateways(route);
    candidates.sort((a, b) => Number(b.section !== undefined) - Number(a.section !== undefined) || age(a.policy).localeCompare(age(b.policy)));
    return candidates[0]!.policy;
  };
}

function age(p: Located<AttachedPolicy>): string {
  return `${p.doc.metadata.creationTimestamp ?? ""}\u0000${p.doc.metadata.namespace}/${p.doc.metadata.name}`;
}

/** Which Services exist: a Backend, a Service document, or (with DNS discovery) a reference names them. */
export type ServiceExists = (key: string) => boolean;

/**
 * Policies targeting a Service (`{group: "", kind: Service, name}`) by "namespace/name": they
 * apply to every request whose destination is that Service. One policy of a kind per Service:
 * the oldest, then the alphabetically first, wins, and the others are named in a warning.
 */
export function serviceAttachments<T extends AttachedPolicy>(kind: string, policies: readonly Located<T>[], issues: PolicyIssue[], exists: ServiceExists): ReadonlyMap<string, Located<T>> {
  const byService = new Map<string, Located<T>[]>();
  for (const p of policies) {
    p.doc.spec.targetRefs.forEach((ref, i) => {
      const key = serviceTarget(ref, p.doc.metadata.namespace);
      if (key === null) return;
      if (!exists(key)) {
        issues.push({ file: p.file, index: p.index, severity: "warning", path: ["spec", "targetRefs", i, "name"], message: `no Service ${key} (no Backend, Service document or reference names it); the policy applies to nothing there` });
      }
      byService.set(key, [...(byService.get(key) ?? []), p]);
    });
  }
  const chosen = new Map<string, Located<T>>();
  for (const [key, list] of byService) {
    const sorted = [...new Set(list)].sort((a, b) => age(a).localeCompare(age(b)));
    chosen.set(key, sorted[0]!);
    for (const loser of sorted.slice(1)) {
      const winner = sorted[0]!.doc.metadata;
      issues.push({ file: loser.file, index: loser.index, severity: "warning", path: ["spec", "targetRefs"], message: `${kind} ${winner.namespace}/${winner.name} already targets Service ${key} and is older; this one does not apply there` });
    }
  }
  return chosen;
}
