import type { PolicyIssue } from "../policy/issues.js";
import type { Located } from "../policy/located.js";
import { isServiceName, isServiceParent, serviceHost, type MeshOptions, type MeshRef } from "./mesh.js";

/** What mesh attachment reads of a route (HTTPRoute, and GRPCRoute alike). */
export interface MeshAttachableRoute {
  readonly metadata: { readonly namespace: string; readonly name: string };
  readonly spec: { readonly parentRefs: readonly { readonly group?: string | undefined; readonly kind?: string | undefined; readonly name: string; readonly namespace?: string | undefined; readonly sectionName?: string | undefined; readonly port?: number | undefined }[] };
}

/**
 * The Services a route serves through its Service parentRefs (GEP-1426). A parent in the route's
 * own namespace makes it a producer route, for every caller. A parent in another namespace makes
 * it a consumer route, for callers of the route's namespace only: it applies here only when that
 * is this gateway's namespace, and is left out (with no warning: it is meant for other callers)
 * otherwise.
 */
export function meshParents(located: Located<MeshAttachableRoute>, options: MeshOptions, issues: PolicyIssue[]): MeshRef[] {
  const route = located.doc;
  const routeNs = route.metadata.namespace;
  const out: MeshRef[] = [];
  route.spec.parentRefs.forEach((ref, i) => {
    const warn = (field: string, message: string) => issues.push({ file: located.file, index: located.index, severity: "warning", path: ["spec", "parentRefs", i, field], message });
    // Gateway API's default group is gateway.networking.k8s.io: `kind: Service` alone names no Service.
    if (ref.kind === "Service" && ref.group === undefined) return warn("group", `kind Service without group "" names gateway.networking.k8s.io/Service, which does not exist: write group: "" to make Service ${ref.name} this route's mesh parent`);
    if (!isServiceParent(ref)) return;
    const ns = ref.namespace ?? routeNs;
    if (!isServiceName(ref.name) || !isServiceName(ns)) return warn("name", `Service ${ns}/${ref.name} is not a valid Service name (RFC 1123 label): this parent is not served`);
    // sectionName names a Service port by name; without the Service's port list every port is meant.
    if (ref.sectionName !== undefined && ref.port === undefined) warn("sectionName", `port names (sectionName ${ref.sectionName}) are not resolved: the route applies to every port of Service ${ns}/${ref.name}; use port`);
    const role = ns === routeNs ? "producer" : "consumer";
    if (role === "consumer" && routeNs !== options.namespace) return;
    out.push({ service: `${ns}/${ref.name}`, host: serviceHost(ns, ref.name, options), role, port: ref.port ?? null, parent: i });
  });
  return out;
}
