import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { meshFlags } from "./mesh-flags.js";

describe("serve --namespace / --cluster-domain", async () => {
  const dir = await mkdtemp(join(tmpdir(), "meshgate-ns-file-"));
  const file = join(dir, "namespace");
  await writeFile(file, "from-pod\n");
  const missing = join(dir, "absent");

  it("flag over MESHGATE_NAMESPACE over the service-account file over default", () => {
    expect(meshFlags({ namespace: "flag" }, { MESHGATE_NAMESPACE: "env" }, file).namespace).toBe("flag");
    expect(meshFlags({}, { MESHGATE_NAMESPACE: "env" }, file).namespace).toBe("env");
    expect(meshFlags({}, { MESHGATE_NAMESPACE: "" }, file).namespace).toBe("from-pod");
    expect(meshFlags({}, {}, missing)).toEqual({ namespace: "default", clusterDomain: "cluster.local" });
  });

  it("cluster domain from the flag or MESHGATE_CLUSTER_DOMAIN, lower-cased, trailing dot dropped", () => {
    expect(meshFlags({ "cluster-domain": "Corp.Example." }, {}, missing).clusterDomain).toBe("corp.example");
    expect(meshFlags({}, { MESHGATE_CLUSTER_DOMAIN: "k8s.internal" }, missing).clusterDomain).toBe("k8s.internal");
  });

  it("names where a bad value came from", async () => {
    await writeFile(join(dir, "bad"), "Not_Valid");
    expect(() => meshFlags({}, {}, join(dir, "bad"))).toThrow(`${join(dir, "bad")} must be a Kubernetes namespace name`);
    expect(() => meshFlags({}, { MESHGATE_NAMESPACE: "a.b" }, missing)).toThrow('MESHGATE_NAMESPACE must be a Kubernetes namespace name (lower-case letters, digits and "-", at most 63), got "a.b"');
    expect(() => meshFlags({}, { MESHGATE_CLUSTER_DOMAIN: "-bad-" }, missing)).toThrow('MESHGATE_CLUSTER_DOMAIN must be a DNS domain such as cluster.local, got "-bad-"');
    expect(() => meshFlags({ namespace: "x".repeat(64) }, {}, missing)).toThrow("--namespace must be");
  });
});
