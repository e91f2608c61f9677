import { readFileSync } from "node:fs";
import { meshOptions, type MeshOptions } from "../routing/mesh.js";

/** Where a pod finds its own namespace without any configuration (every service account token mount has it). */
export const DOWNWARD_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/**
 * `serve --namespace` and `--cluster-domain`. The namespace comes from the flag, else
 * MESHGATE_NAMESPACE, else the pod's service-account namespace file, else "default"; the domain
 * from the flag, else MESHGATE_CLUSTER_DOMAIN, else cluster.local.
 */
export function meshFlags(values: { namespace?: string | undefined; "cluster-domain"?: string | undefined }, env: NodeJS.ProcessEnv = process.env, namespaceFile = DOWNWARD_NAMESPACE_FILE): MeshOptions {
  const fromEnv = (name: string) => (env[name] !== undefined && env[name] !== "" ? env[name] : undefined);
  const namespace = values.namespace ?? fromEnv("MESHGATE_NAMESPACE") ?? readIfPresent(namespaceFile);
  const domain = values["cluster-domain"] ?? fromEnv("MESHGATE_CLUSTER_DOMAIN");
  const where = {
    namespace: values.namespace !== undefined ? "--namespace" : fromEnv("MESHGATE_NAMESPACE") !== undefined ? "MESHGATE_NAMESPACE" : namespace !== undefined ? namespaceFile : "namespace",
    clusterDomain: values["cluster-domain"] !== undefined ? "--cluster-domain" : "MESHGATE_CLUSTER_DOMAIN",
  };
  return meshOptions(namespace, domain, where);
}

function readIfPresent(file: string): string | undefined {
  try {
    const text = readFileSync(file, "utf8").trim();
    return text === "" ? undefined : text;
  } catch {
    return undefined; // not in a pod (or no token mounted): the default namespace
  }
}
