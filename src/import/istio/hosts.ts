/** An Istio host as a Kubernetes Service: `reviews`, `reviews.ns`, `reviews.ns.svc(.cluster.local)`. */
export interface ServiceName {
  readonly name: string;
  readonly namespace: string | undefined;
}

export function serviceOf(host: string): ServiceName | null {
  if (host.includes("*")) return null;
  const parts = host.split(".");
  if (parts.length === 1) return { name: host, namespace: undefined };
  if (parts.length === 2 || parts[2] === "svc") return { name: parts[0]!, namespace: parts[1] };
  return null;
}

/** The Service a subset stands for, by the --subset-service template. */
export function subsetService(template: string, host: string, subset: string): string {
  const service = serviceOf(host)?.name ?? host;
  return template.replaceAll("{host}", service).replaceAll("{subset}", subset);
}
