/**
 * Gateway API's mesh profile (GAMMA): routes whose parentRef is a Service, and the authority
 * spellings that name a Service. Everything here is compile-time; a request only looks its
 * authority's host up in a map (see mesh-table.ts).
 */

/** Where this gateway runs: the namespace its callers live in and the cluster's DNS domain. */
export interface MeshOptions {
  /** The gateway's own namespace (`serve --namespace`): bare `S` names a Service of it, consumer routes of it apply. */
  readonly namespace: string;
  /** `serve --cluster-domain`, the suffix of `S.N.svc.<domain>`. */
  readonly clusterDomain: string;
}

export const DEFAULT_MESH: MeshOptions = { namespace: "default", clusterDomain: "cluster.local" };

/**
 * How a route entry came to serve a Service: through a parentRef (a producer route, in the
 * Service's namespace, for every caller; a consumer route, in the caller's namespace, for that
 * namespace's callers only) or as the Service's synthesized default route.
 */
export interface MeshRef {
  /** "namespace/name" of the Service the authority names. */
  readonly service: string;
  /** Its fully qualified host, `S.N.svc.<domain>`. */
  readonly host: string;
  readonly role: "producer" | "consumer" | "default";
  /** The parentRef's port: the authority's port must equal it (no port = 80). Null = any port. */
  readonly port: number | null;
  /** Index into the route's parentRefs; -1 for the default route. */
  readonly parent: number;
}

/** A Service parentRef as written: `{group: "", kind: Service}` (Gateway API's core group; "core" also appears in its docs). */
export function isServiceParent(ref: { readonly group?: string | undefined; readonly kind?: string | undefined }): boolean {
  return (ref.group === "" || ref.group === "core") && ref.kind === "Service";
}

// A Kubernetes Service name and namespace are RFC 1123 labels. Names with dots (a Backend called
// "api.example.com") are not Services: giving them authority forms would steal ingress hostnames.
const LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;

export function isServiceName(name: string): boolean {
  return LABEL.test(name);
}

/** The fully qualified name, `S.N.svc.<domain>`: the one spelling explain and metrics show. */
export function serviceHost(namespace: string, name: string, options: MeshOptions): string {
  return `${name}.${namespace}.svc.${options.clusterDomain}`;
}

/**
 * Every authority host that names Service `name` of `namespace`: `S.N.svc.<domain>`, `S.N.svc`,
 * `S.N`, and `S` alone when N is the gateway's own namespace (what a caller's DNS search path
 * resolves). Empty when the name or namespace is not a Service's.
 */
export function serviceAuthorities(namespace: string, name: string, options: MeshOptions): string[] {
  if (!isServiceName(name) || !isServiceName(namespace)) return [];
  const forms = [serviceHost(namespace, name, options), `${name}.${namespace}.svc`, `${name}.${namespace}`];
  if (namespace === options.namespace) forms.push(name);
  return forms;
}

// A DNS name of labels: what a cluster domain is ("cluster.local", "corp.example").
const DOMAIN = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)*$/;

/**
 * Checked mesh options: the namespace an RFC 1123 label, the cluster domain a DNS name (a
 * trailing dot is dropped). Throws with the offending value named, so a bad flag or variable
 * stops the gateway before it serves anything.
 */
export function meshOptions(namespace: string | undefined, clusterDomain: string | undefined, where = { namespace: "namespace", clusterDomain: "cluster domain" }): MeshOptions {
  const ns = (namespace ?? DEFAULT_MESH.namespace).trim();
  const domain = (clusterDomain ?? DEFAULT_MESH.clusterDomain).trim().toLowerCase().replace(/\.$/, "");
  if (!isServiceName(ns)) throw new Error(`${where.namespace} must be a Kubernetes namespace name (lower-case letters, digits and "-", at most 63), got "${ns}"`);
  if (domain.length > 253 || !DOMAIN.test(domain)) throw new Error(`${where.clusterDomain} must be a DNS domain such as cluster.local, got "${clusterDomain}"`);
  return { namespace: ns, clusterDomain: domain };
}
