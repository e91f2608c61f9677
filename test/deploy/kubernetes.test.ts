import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Job } from "kubernetes-models/batch/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Service, ServiceAccount } from "kubernetes-models/v1";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVE_OPTIONS } from "../../src/cli/serve.js";
import { TARGET_OPTIONS } from "../../src/cli/targets.js";
import { renderKustomization, strategicMerge, type K8sObject } from "../support/kustomize.js";

const run = promisify(execFile);
const ROOT = join(process.cwd(), "deploy", "kubernetes");
const BIN = join(process.cwd(), "bin", "meshgate.js");
const LAYOUTS = ["base", "overlays/redis", "overlays/east-west", "overlays/monitoring"] as const;
// The drain contract (DESIGN.md 1): SIGTERM → exit 0 within 10 s.
const DRAIN_SECONDS = 10;

interface Validatable {
  validate(): void;
}
// Each kind the manifests use, checked against the Kubernetes (and CRD) OpenAPI schemas.
const MODELS: Record<string, new (data: never) => Validatable> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "batch/v1/Job": Job,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
};

type Container = { name: string; command?: string[]; args?: string[]; ports?: { name?: string; containerPort: number }[]; [key: string]: unknown };
type PodSpec = { containers: Container[]; volumes?: { name: string; configMap?: { name: string } }[]; terminationGracePeriodSeconds?: number; securityContext?: Record<string, unknown> };

const rendered = new Map<string, K8sObject[]>();
let scratch: string;

beforeAll(async () => {
  for (const layout of LAYOUTS) rendered.set(layout, await renderKustomization(join(ROOT, layout)));
  scratch = await mkdtemp(join(tmpdir(), "meshgate-k8s-"));
});
afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const objects = (layout: string) => rendered.get(layout)!;
const find = (layout: string, kind: string, name: string) => {
  const o = objects(layout).find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${layout}: no ${kind} ${name}`);
  return o;
};
const podSpec = (o: K8sObject) => (o["spec"] as { template: { spec: PodSpec } }).template.spec;
const gatewayContainer = (layout: string) => podSpec(find(layout, "Deployment", "meshgate")).containers.find((c) => c.name === "meshgate")!;
/** The command line after the program: `meshgate serve --x` → ["serve", "--x"]; `node …/meshgate.js serve` too. */
function cliArgs(c: Container): string[] {
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  const program = argv[0] === "node" ? 2 : 1;
  return argv.slice(program);
}

describe.each(LAYOUTS)("deploy/kubernetes/%s", (layout) => {
  it("no container is started through npx (npx as PID 1 exits on SIGTERM without signalling the gateway)", () => {
    const workloads = objects(layout).filter((o) => o.kind === "Deployment" || o.kind === "Job");
    expect(workloads.length).toBeGreaterThan(0);
    for (const o of workloads) {
      const spec = podSpec(o) as PodSpec & { initContainers?: Container[] };
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        const argv = [...(c.command ?? []), ...(c.args ?? [])];
        // Also "sh -c 'npx …'": any word npx anywhere in the command line.
        expect(argv.some((a) => /(^|[\s/;&|])npx(\s|$)/.test(a)), `${o.kind} ${o.metadata.name} container ${c.name}: ${argv.join(" ")}`).toBe(false);
        // Containers of the meshgate image say which program runs (the image's own entrypoint is not npx either: see the Dockerfile test).
        if (String(c["image"] ?? "").includes("meshgate")) expect(argv[0], `${o.kind} ${o.metadata.name} container ${c.name}`).toMatch(/^(meshgate|node)$/);
      }
    }
  });

  it("every object is valid against its Kubernetes schema", () => {
    expect(objects(layout).length).toBeGreaterThan(5);
    for (const o of objects(layout)) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`];
      expect(Model, `${o.apiVersion} ${o.kind} has a schema here`).toBeDefined();
      expect(() => new Model!(o as never).validate(), `${o.kind} ${o.metadata.name}`).not.toThrow();
    }
  });

  it("the Deployment's command is the gateway's own bin with flags `meshgate serve` accepts", () => {
    const c = gatewayContainer(layout);
    expect(c.command?.[0]).toMatch(/^(meshgate|node)$/);
    expect([...(c.command ?? []), ...(c.args ?? [])]).not.toContain("npx");
    const [command, ...flags] = cliArgs(c);
    expect(command).toBe("serve");
    // strict: an unknown flag throws, exactly as `meshgate serve` would refuse it.
    const { values, positionals } = parseArgs({ args: flags, options: SERVE_OPTIONS, strict: true, allowPositionals: false });
    expect(positionals).toEqual([]);
    expect(values.host).toBe("0.0.0.0");
    const ports = new Map((c.ports ?? []).map((p) => [p.name, p.containerPort]));
    expect(ports.get("http")).toBe(Number(values.port));
    expect(ports.get("admin")).toBe(Number(values["admin-port"]));
    expect(Boolean(values.policies) !== Boolean(values.store)).toBe(true);
  });

  it("probes hit the admin port, and the pod drains before the kubelet kills it", () => {
    const spec = podSpec(find(layout, "Deployment", "meshgate"));
    const c = gatewayContainer(layout) as Container & Record<string, { httpGet?: { path: string; port: string | number } }>;
    expect(c["readinessProbe"]?.httpGet).toEqual({ path: "/ready", port: "admin" });
    expect(c["livenessProbe"]?.httpGet).toEqual({ path: "/healthz", port: "admin" });
    const preStop = (c["lifecycle"] as { preStop?: { exec?: { command: string[] } } } | undefined)?.preStop?.exec?.command ?? [];
    const preStopSeconds = preStop[0] === "sleep" ? Number(preStop[1]) : 0;
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(preStopSeconds + DRAIN_SECONDS);
  });

  it("runs non-root on a read-only root filesystem with requests and a memory limit", () => {
    const spec = podSpec(find(layout, "Deployment", "meshgate"));
    const c = gatewayContainer(layout) as Container & { securityContext: Record<string, unknown>; resources: { requests?: Record<string, string>; limits?: Record<string, string> } };
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(Number(spec.securityContext?.["runAsUser"])).toBeGreaterThan(0);
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ["ALL"] } });
    expect(c.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(c.resources.limits).toMatchObject({ memory: expect.any(String) });
  });

  it("Services, PDB, HPA and ServiceMonitor select the gateway pods and name ports that exist", () => {
    const deployment = find(layout, "Deployment", "meshgate");
    const labels = (deployment["spec"] as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    const portNames = new Set((gatewayContainer(layout).ports ?? []).map((p) => p.name));
    const services = objects(layout).filter((o) => o.kind === "Service" && o.metadata.name !== "redis");
    expect(services.length).toBeGreaterThanOrEqual(2);
    for (const s of services) {
      const spec = s["spec"] as { selector: Record<string, string>; ports: { targetPort: string }[] };
      expect(selects(spec.selector), `Service ${s.metadata.name}`).toBe(true);
      for (const p of spec.ports) expect(portNames, `Service ${s.metadata.name}`).toContain(p.targetPort);
    }
    const pdb = find(layout, "PodDisruptionBudget", "meshgate")["spec"] as { selector: { matchLabels: Record<string, string> } };
    expect(selects(pdb.selector.matchLabels)).toBe(true);
    const hpa = find(layout, "HorizontalPodAutoscaler", "meshgate")["spec"] as { scaleTargetRef: { kind: string; name: string }; minReplicas: number };
    expect(hpa.scaleTargetRef).toMatchObject({ kind: "Deployment", name: "meshgate" });
    expect(hpa.minReplicas).toBeGreaterThanOrEqual(2); // with the PDB's maxUnavailable 1, a drain never empties the gateway
    for (const sm of objects(layout).filter((o) => o.kind === "ServiceMonitor")) {
      const spec = sm["spec"] as { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] };
      const target = services.filter((s) => Object.entries(spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v));
      expect(target.map((s) => s.metadata.name)).toEqual(["meshgate-admin"]);
      expect(spec.endpoints).toContainEqual(expect.objectContaining({ port: "admin", path: "/metrics" }));
    }
  });

  it("the policies ConfigMap validates with `meshgate validate` and its HTTPRoutes with the Gateway API schema", async () => {
    const cm = find(layout, "ConfigMap", "meshgate-policies");
    const dir = await mkdtemp(join(scratch, "policies-"));
    const data = cm["data"] as Record<string, string>;
    for (const [file, text] of Object.entries(data)) {
      await writeFile(join(dir, file), text);
      for (const doc of parseAllDocuments(text).map((d) => d.toJS() as K8sObject)) {
        if (doc.kind === "HTTPRoute") expect(() => new HTTPRoute(doc as never).validate(), `${file} ${doc.metadata.name}`).not.toThrow();
      }
    }
    const out = await run(process.execPath, [BIN, "validate", dir]);
    expect(out.stdout.trim().split("\n")).toEqual([expect.stringMatching(/^valid: /)]); // no warnings either
    // Mounted where the gateway reads it (or, with a store, where the publish Job reads it).
    const mounts = objects(layout).filter((o) => o.kind === "Deployment" || o.kind === "Job").flatMap((o) => {
      const spec = podSpec(o);
      const volume = spec.volumes?.find((v) => v.configMap?.name === "meshgate-policies")?.name;
      return spec.containers.flatMap((c) => ((c["volumeMounts"] as { name: string; mountPath: string }[] | undefined) ?? []).filter((m) => m.name === volume).map((m) => ({ c, path: m.mountPath })));
    });
    expect(mounts.length).toBeGreaterThan(0);
    for (const { c, path } of mounts) expect(cliArgs(c)).toContain(`--policies=${path}`);
  });
});

describe("overlays", () => {
  it("redis: gateways read bundles and count global limits in the overlay's Redis; the Job publishes with flags `publish` accepts", () => {
    const { values } = parseArgs({ args: cliArgs(gatewayContainer("overlays/redis")).slice(1), options: SERVE_OPTIONS, strict: true });
    expect(values.store).toBe("redis://redis:6379");
    expect(find("overlays/redis", "Service", "redis")).toBeDefined();
    expect(podSpec(find("overlays/redis", "Deployment", "meshgate")).volumes?.map((v) => v.name)).toEqual(["tmp"]);
    const job = podSpec(find("overlays/redis", "Job", "meshgate-publish")).containers[0]!;
    const [command, ...flags] = cliArgs(job);
    expect(command).toBe("publish");
    const published = parseArgs({ args: flags, options: { ...TARGET_OPTIONS, policies: { type: "string" } }, strict: true }).values;
    expect(published.redis).toBe(values.store);
    expect(published.prefix).toBe(values.prefix);
    const limits = (find("overlays/redis", "ConfigMap", "meshgate-policies")["data"] as Record<string, string>)["rate-limits.yaml"]!;
    expect(parseAllDocuments(limits).map((d) => (d.toJS() as { spec: { store: string } }).spec.store)).toEqual(["global"]);
  });

  it("east-west: every mesh Service resolves to the gateway pods and has a mesh route or a default-route Backend", () => {
    const layout = "overlays/east-west";
    const all = objects(layout);
    expect(all.filter((o) => o.kind !== "Namespace").every((o) => o.metadata.namespace === "bookinfo")).toBe(true);
    const env = (gatewayContainer(layout)["env"] as { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[]).find((e) => e.name === "MESHGATE_NAMESPACE");
    expect(env?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.namespace");
    const policies = Object.values(find(layout, "ConfigMap", "meshgate-policies")["data"] as Record<string, string>).flatMap((t) => parseAllDocuments(t).map((d) => d.toJS() as K8sObject & { spec: Record<string, unknown> }));
    const meshServices = all.filter((o) => o.kind === "Service" && o.metadata.labels?.["app.kubernetes.io/component"] === "mesh");
    expect(meshServices.map((s) => s.metadata.name).sort()).toEqual(["details", "ratings", "reviews"]);
    for (const s of meshServices) {
      const port = (s["spec"] as { ports: { port: number }[] }).ports[0]!.port;
      const routed = policies.some((p) => p.kind === "HTTPRoute" && (p.spec["parentRefs"] as { group?: string; kind?: string; name: string; port?: number }[] | undefined)?.some((r) => r.group === "" && r.kind === "Service" && r.name === s.metadata.name && (r.port ?? 80) === port));
      const defaultRoute = policies.some((p) => p.kind === "Backend" && p.metadata.name === s.metadata.name && p.metadata.namespace === "bookinfo");
      expect(routed || defaultRoute, `Service ${s.metadata.name}`).toBe(true);
    }
    // Backends reach the workloads' own Services, never a mesh Service (that would loop through meshgate).
    const meshHosts = meshServices.flatMap((s) => [s.metadata.name, `${s.metadata.name}.bookinfo`, `${s.metadata.name}.bookinfo.svc`, `${s.metadata.name}.bookinfo.svc.cluster.local`]);
    for (const b of policies.filter((p) => p.kind === "Backend")) {
      for (const e of b.spec["endpoints"] as { url: string }[]) expect(meshHosts).not.toContain(new URL(e.url).hostname);
    }
  });
});

describe("the renderer", () => {
  it("merges named lists, deletes with $patch and replaces other lists, as strategic merge does", () => {
    const base = { spec: { containers: [{ name: "a", args: ["x", "y"], env: [{ name: "A", value: "1" }] }, { name: "b" }], volumes: [{ name: "v" }, { name: "w" }] } };
    const patch = { spec: { containers: [{ name: "a", args: ["z"], env: [{ name: "B", value: "2" }] }], volumes: [{ name: "v", $patch: "delete" }] } };
    expect(strategicMerge(base, patch)).toEqual({ spec: { containers: [{ name: "a", args: ["z"], env: [{ name: "A", value: "1" }, { name: "B", value: "2" }] }, { name: "b" }], volumes: [{ name: "w" }] } });
  });

  it("refuses kustomization fields it does not implement", async () => {
    const dir = await mkdtemp(join(scratch, "k-"));
    await writeFile(join(dir, "kustomization.yaml"), "resources: []\nimages: [{ name: meshgate, newTag: '1' }]\n");
    await expect(renderKustomization(dir)).rejects.toThrow(/does not implement images/);
  });

  // kubectl ships with kustomize; where it is installed, the real thing must agree with the renderer.
  const kubectl = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" }).status === 0;
  it.runIf(kubectl).each(LAYOUTS)("renders %s exactly as `kubectl kustomize` does", async (layout) => {
    const { stdout } = await run("kubectl", ["kustomize", join(ROOT, layout)], { maxBuffer: 16 << 20 });
    const real = parseAllDocuments(stdout).map((d) => d.toJS() as K8sObject);
    const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
    const sort = (list: K8sObject[]) => [...list].sort((a, b) => key(a).localeCompare(key(b)));
    expect(sort(objects(layout))).toEqual(sort(real));
  });
});

describe("Dockerfile", () => {
  it("is multi-stage, non-root, with a /healthz HEALTHCHECK and the gateway's own bin serving /etc/meshgate", async () => {
    const text = await readFile(join(process.cwd(), "Dockerfile"), "utf8");
    const instructions = text.replace(/\\\n/g, " ").split("\n").filter((l) => /^[A-Z]+ /.test(l));
    const stages = instructions.filter((l) => l.startsWith("FROM "));
    expect(stages.length).toBe(2);
    const runtime = instructions.slice(instructions.lastIndexOf(stages[1]!));
    expect(runtime.some((l) => /^COPY --from=build .*\.tgz/.test(l))).toBe(true);
    const user = runtime.filter((l) => l.startsWith("USER ")).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)\b/);
    expect(runtime.find((l) => l.startsWith("HEALTHCHECK "))).toContain("/healthz");
    const json = (prefix: string) => JSON.parse(runtime.find((l) => l.startsWith(prefix))!.slice(prefix.length)) as string[];
    const entrypoint = json("ENTRYPOINT ");
    expect(entrypoint).not.toContain("npx");
    expect(entrypoint.at(-1)).toBe("meshgate");
    const [command, ...flags] = json("CMD ");
    expect(command).toBe("serve");
    const { values } = parseArgs({ args: flags, options: SERVE_OPTIONS, strict: true });
    expect(values.policies).toBe("/etc/meshgate");
    expect(text).toMatch(/9901\/healthz/);
    expect(Number(values["admin-port"])).toBe(9901);
  });
});

describe("README: what a process manager runs", () => {
  it("no Kubernetes, Docker or systemd example starts the gateway with npx, and README says why", async () => {
    const readme = await readFile(join(process.cwd(), "README.md"), "utf8");
    // YAML and Dockerfile blocks are what a process manager runs (shell blocks are a person at a prompt).
    const blocks = [...readme.matchAll(/```(yaml|dockerfile|Dockerfile|ini)\n([\s\S]*?)```/g)].map((m) => m[2]!);
    for (const block of blocks) expect(block, block).not.toMatch(/npx\s+meshgate\s+serve|["']npx["']/);
    expect(readme).toMatch(/never `npx meshgate`: npx/);
  });
});
