import { readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { parseAllDocuments } from "yaml";

/** A rendered Kubernetes object, as `kubectl kustomize` prints it. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

interface Kustomization {
  namespace?: string;
  resources?: string[];
  patches?: { path: string }[];
  configMapGenerator?: { name: string; behavior?: "create" | "merge" | "replace"; files?: string[] }[];
  generatorOptions?: { disableNameSuffixHash?: boolean };
}

const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass", "StorageClass"]);
// Strategic-merge keys of the list fields our manifests patch (from the Kubernetes API's
// x-kubernetes-patch-merge-key); any other list is replaced whole, as kustomize does.
const MERGE_KEYS: Record<string, string> = { containers: "name", initContainers: "name", volumes: "name", volumeMounts: "mountPath", env: "name", imagePullSecrets: "name" };

/**
 * The subset of kustomize our manifests use (resources, configMapGenerator with
 * create/merge/replace, strategic-merge patches by kind and name, namespace), so overlays render
 * in tests without kubectl. Anything else in a kustomization.yaml is refused, not ignored.
 */
export async function renderKustomization(dir: string): Promise<K8sObject[]> {
  const k = (await readYaml(join(dir, "kustomization.yaml")))[0] as Kustomization & Record<string, unknown>;
  const known = new Set(["apiVersion", "kind", "namespace", "resources", "patches", "configMapGenerator", "generatorOptions"]);
  const unknown = Object.keys(k).filter((key) => !known.has(key));
  if (unknown.length > 0) throw new Error(`${dir}/kustomization.yaml: this renderer does not implement ${unknown.join(", ")}`);
  // A merge/replace of a base's ConfigMap keeps the base's name; only a new one would be hashed.
  const creates = (k.configMapGenerator ?? []).some((g) => (g.behavior ?? "create") === "create");
  if (creates && k.generatorOptions?.disableNameSuffixHash !== true) {
    throw new Error(`${dir}: name-suffix hashes are not implemented (set generatorOptions.disableNameSuffixHash)`);
  }
  let objects: K8sObject[] = [];
  for (const resource of k.resources ?? []) {
    const path = join(dir, resource);
    objects.push(...((await stat(path)).isDirectory() ? await renderKustomization(path) : ((await readYaml(path)) as K8sObject[])));
  }
  for (const gen of k.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const file of gen.files ?? []) data[basename(file)] = await readFile(join(dir, file), "utf8");
    const existing = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === gen.name);
    const behavior = gen.behavior ?? "create";
    if (behavior === "create") {
      if (existing) throw new Error(`${dir}: ConfigMap ${gen.name} exists already (use behavior: merge or replace)`);
      objects.push({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: gen.name }, data });
    } else {
      if (!existing) throw new Error(`${dir}: behavior ${behavior} needs an existing ConfigMap ${gen.name}`);
      existing["data"] = behavior === "merge" ? { ...(existing["data"] as Record<string, string>), ...data } : data;
    }
  }
  for (const patch of k.patches ?? []) {
    for (const p of (await readYaml(join(dir, patch.path))) as K8sObject[]) {
      const i = objects.findIndex((o) => o.kind === p.kind && o.metadata.name === p.metadata.name);
      if (i < 0) throw new Error(`${dir}/${patch.path}: no ${p.kind} ${p.metadata.name} to patch`);
      objects[i] = strategicMerge(objects[i], p) as K8sObject;
    }
  }
  if (k.namespace !== undefined) {
    const ns = k.namespace;
    objects = objects.map((o) => {
      if (o.kind === "Namespace") return { ...o, metadata: { ...o.metadata, name: ns } };
      if (CLUSTER_SCOPED.has(o.kind)) return o;
      return { ...o, metadata: { ...o.metadata, namespace: ns } };
    });
  }
  return objects;
}

async function readYaml(path: string): Promise<unknown[]> {
  return parseAllDocuments(await readFile(path, "utf8"))
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${path}: ${d.errors[0]!.message}`);
      return d.toJS() as unknown;
    })
    .filter((d) => d !== null);
}

/** Kubernetes strategic merge patch for maps and the named lists in MERGE_KEYS (with `$patch: delete`). */
export function strategicMerge(base: unknown, patch: unknown, field = ""): unknown {
  if (Array.isArray(patch)) {
    const key = MERGE_KEYS[field];
    if (key === undefined || !Array.isArray(base)) return patch.filter((p) => !isDelete(p));
    const out = base.map((b) => ({ ...(b as Record<string, unknown>) })) as Record<string, unknown>[];
    for (const item of patch as Record<string, unknown>[]) {
      const i = out.findIndex((b) => b[key] === item[key]);
      if (isDelete(item)) {
        if (i >= 0) out.splice(i, 1);
      } else if (i >= 0) out[i] = strategicMerge(out[i], item) as Record<string, unknown>;
      else out.push(item);
    }
    return out;
  }
  if (isObject(patch) && isObject(base)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = strategicMerge(base[k], v, k);
    }
    return out;
  }
  return patch;
}

function isDelete(item: unknown): boolean {
  return isObject(item) && item["$patch"] === "delete";
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
