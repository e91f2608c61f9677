import type { PolicyIssue } from "../policy/issues.js";
import type { Gateway, GatewayListener } from "./gateway.js";
import type { HTTPRoute } from "./httproute.js";
import { routeKindOf, type RouteKind } from "../policy/route-kind.js";
import type { Located } from "../policy/located.js";
import { wildcardCovers } from "./hostnames.js";
import { isServiceParent } from "./mesh.js";

const GROUP = "gateway.networking.k8s.io";

/**
 * The hostnames a route serves as an ingress route. Service parentRefs (mesh routes) are not
 * ingress parents: a route whose parents are all Services serves no ingress hostname (null).
 * Otherwise, without Gateway documents: its own hostnames (`null` = every host). With
 * them (Gateway API attachment): only through listeners its parentRefs name that accept it —
 * protocol HTTP/HTTPS, `allowedRoutes` namespaces and kinds — and only the hostnames where the
 * route's and the listener's intersect. Null when it attaches nowhere (a warning says why).
 * Listener ports are not matched against the gateway's own port: one meshgate listener serves
 * every Gateway listener, so `--port` is a deployment choice, not the Gateway's.
 */
export interface RouteAttachment {
  readonly hostnames: readonly (string | null)[];
  /** "namespace/name" of the Gateways the route attached to; null when there are no Gateway documents. */
  readonly gateways: ReadonlySet<string> | null;
}

export function attachRoute(located: Located<HTTPRoute>, gateways: readonly Located<Gateway>[], issues: PolicyIssue[]): RouteAttachment | null {
  const route = located.doc;
  const own = route.spec.hostnames;
  const parents = route.spec.parentRefs;
  const warn = (path: (string | number)[], message: string) => issues.push({ file: located.file, index: located.index, severity: "warning", path, message });
  if (parents.length > 0 && parents.every(isServiceParent)) return null;
  if (gateways.length === 0) {
    // Contract: parentRefs are ignored without Gateway documents, so say what that means.
    const named = parents.findIndex((ref) => !isServiceParent(ref) && (ref.group ?? GROUP) === GROUP && (ref.kind ?? "Gateway") === "Gateway");
    if (named !== -1) warn(["spec", "parentRefs", named], `names Gateway ${parents[named]!.namespace ?? route.metadata.namespace}/${parents[named]!.name}, but no Gateway document is loaded: the route serves ${own.length > 0 ? own.join(", ") : "every host"} as if it had no parentRefs`);
    return { hostnames: own.length > 0 ? own : [null], gateways: null };
  }
  const routeNs = route.metadata.namespace;
  if (parents.length === 0) {
    warn(["spec", "parentRefs"], "route names no parentRefs; with Gateway documents present it is not served");
    return null;
  }
  const out = new Set<string | null>();
  const attachedTo = new Set<string>();
  const reasons: string[] = [];
  parents.forEach((ref, i) => {
    if (isServiceParent(ref)) return; // a mesh parent: see mesh-attachment.ts
    if ((ref.group ?? GROUP) !== GROUP || (ref.kind ?? "Gateway") !== "Gateway") return void reasons.push(`parentRefs[${i}] is not a Gateway`);
    const ns = ref.namespace ?? routeNs;
    const gateway = gateways.find((g) => g.doc.metadata.namespace === ns && g.doc.metadata.name === ref.name);
    if (gateway === undefined) return void reasons.push(`parentRefs[${i}]: no Gateway ${ns}/${ref.name}`);
    const gwNs = gateway.doc.metadata.namespace;
    const listeners = gateway.doc.spec.listeners.filter((l) => (ref.sectionName === undefined || l.name === ref.sectionName) && (ref.port === undefined || l.port === ref.port));
    if (listeners.length === 0) return void reasons.push(`parentRefs[${i}]: Gateway ${gwNs}/${ref.name} has no listener${ref.sectionName ? ` named ${ref.sectionName}` : ""}${ref.port ? ` on port ${ref.port}` : ""}`);
    for (const l of listeners) {
      const refused = refusal(l, gwNs, routeNs, routeKindOf(route));
      if (refused !== null) {
        reasons.push(`listener ${gwNs}/${ref.name}/${l.name} ${refused}`);
        continue;
      }
      const hosts = intersect(own, l.hostname);
      if (hosts.length === 0) reasons.push(`listener ${gwNs}/${ref.name}/${l.name} hostname ${l.hostname} does not intersect the route's hostnames`);
      for (const h of hosts) out.add(h);
      if (hosts.length > 0) attachedTo.add(`${gwNs}/${ref.name}`);
    }
  });
  if (out.size === 0) {
    warn(["spec", "parentRefs"], `route is not attached to any listener, so it is not served: ${reasons.join("; ")}`);
    return null;
  }
  // A route attached everywhere without hostname limits needs no other pattern.
  return { hostnames: out.has(null) ? [null] : [...out], gateways: attachedTo };
}

function refusal(l: GatewayListener, gatewayNs: string, routeNs: string, routeKind: RouteKind): string | null {
  if (l.protocol !== "HTTP" && l.protocol !== "HTTPS") return `speaks ${l.protocol}, not HTTP`;
  const from = l.allowedRoutes.namespaces.from;
  if (from === "Same" && gatewayNs !== routeNs) return `accepts routes from namespace ${gatewayNs} only`;
  if (from === "Selector") return "selects namespaces by label, which cannot be evaluated outside Kubernetes";
  const kinds = l.allowedRoutes.kinds;
  if (kinds && !kinds.some((k) => (k.group ?? GROUP) === GROUP && k.kind === routeKind)) return `does not accept ${routeKind}s`;
  return null;
}

/** Gateway API hostname intersection of a route's hostnames and a listener's hostname. */
export function intersect(routeHosts: readonly string[], listener: string | undefined): (string | null)[] {
  if (listener === undefined) return routeHosts.length > 0 ? [...routeHosts] : [null];
  if (routeHosts.length === 0) return [listener];
  const out: string[] = [];
  for (const h of routeHosts) {
    const hWild = h.startsWith("*.");
    const lWild = listener.startsWith("*.");
    if (h === listener) out.push(h);
    else if (lWild && !hWild && wildcardCovers(listener, h)) out.push(h);
    else if (!lWild && hWild && wildcardCovers(h, listener)) out.push(listener);
    else if (lWild && hWild && h.endsWith(listener.slice(1))) out.push(h);
    else if (lWild && hWild && listener.endsWith(h.slice(1))) out.push(listener);
  }
  return [...new Set(out)];
}
