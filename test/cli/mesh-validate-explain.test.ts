import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml } from "../support/gateway.js";

/** `meshgate validate` says where routing would silently go wrong; `meshgate explain` says which Service an authority named. */

const BIN = join(process.cwd(), "bin", "meshgate.js");
const dirs: string[] = [];

async function folder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "meshgate-mesh-cli-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

function meshgate(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 15_000 });
}

const route = (name: string, spec: string, namespace = "default") => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: ${namespace} }
spec:
${spec}`;

const BACKENDS = ["reviews-v1", "reviews-v2", "details-v1", "details"].map((n) => backendYaml(n, ["http://127.0.0.1:1"])).join("---\n");

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe("meshgate validate: no silent misrouting", () => {
  it("warns when parentRefs name a Gateway but no Gateway document is loaded", async () => {
    const dir = await folder({ "b.yaml": BACKENDS, "r.yaml": route("web", "  parentRefs: [{ name: edge }]\n  rules: [{ backendRefs: [{ name: details }] }]\n") });
    const out = meshgate("validate", dir);
    expect(out.status).toBe(0);
    expect(out.stdout).toContain("r.yaml:document#0: spec.parentRefs[0]: warning: names Gateway default/edge, but no Gateway document is loaded: the route serves every host as if it had no parentRefs");
  });

  it("warns when two routes without hostnames or parents take the same requests (mesh routes written as ingress routes)", async () => {
    const dir = await folder({
      "b.yaml": BACKENDS,
      "r.yaml": [route("reviews", "  rules: [{ backendRefs: [{ name: reviews-v1 }] }]\n"), route("details", "  rules: [{ matches: [{ path: { type: PathPrefix, value: / } }], backendRefs: [{ name: details-v1 }] }]\n")].join("---\n"),
    });
    const out = meshgate("validate", dir);
    expect(out.status).toBe(0);
    expect(out.stdout).toContain("r.yaml:document#0: spec.rules[0].matches[0]: warning: matches the same requests as HTTPRoute default/details rules[0].matches[0], and neither route has hostnames or parentRefs: every such request goes to default/details, none to this route");
    // --strict turns the warning into a failure, for CI.
    expect(meshgate("validate", "--strict", dir).status).toBe(1);
  });

  it("says nothing about routes that only look alike but differ (another header, another host, a Service parent)", async () => {
    const dir = await folder({
      "b.yaml": BACKENDS,
      "r.yaml": [
        route("a", "  rules: [{ matches: [{ path: { value: /x }, headers: [{ name: v, value: '1' }] }], backendRefs: [{ name: details }] }]\n"),
        route("b", "  rules: [{ matches: [{ path: { value: /x } }], backendRefs: [{ name: details }] }]\n"),
        route("c", "  hostnames: [c.example]\n  rules: [{ matches: [{ path: { value: /x } }], backendRefs: [{ name: details }] }]\n"),
        route("reviews", '  parentRefs: [{ group: "", kind: Service, name: reviews }]\n  rules: [{ backendRefs: [{ name: reviews-v1 }] }]\n'),
        route("details", '  parentRefs: [{ group: "", kind: Service, name: details }]\n  rules: [{ backendRefs: [{ name: details-v1 }] }]\n'),
      ].join("---\n"),
    });
    const out = meshgate("validate", dir);
    expect(out.status).toBe(0);
    expect(out.stdout.trim().split("\n")).toEqual([expect.stringMatching(/^valid: /)]);
  });

  it("warns about a Service parentRef that cannot name a Service", async () => {
    const dir = await folder({ "b.yaml": BACKENDS, "r.yaml": route("x", '  parentRefs: [{ group: "", kind: Service, name: Not_A.Service }]\n  rules: [{ backendRefs: [{ name: details }] }]\n') });
    expect(meshgate("validate", dir).stdout).toContain("spec.parentRefs[0].name: warning: Service default/Not_A.Service is not a valid Service name (RFC 1123 label): this parent is not served");
  });
});

describe("meshgate explain: which Service the authority named, and what served it", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await folder({
      "b.yaml": BACKENDS,
      "r.yaml": [
        route("reviews", '  parentRefs: [{ group: "", kind: Service, name: reviews, port: 9080 }]\n  rules: [{ backendRefs: [{ name: reviews-v1 }] }]\n'),
        route("reviews-from-frontend", '  parentRefs: [{ group: "", kind: Service, name: reviews, namespace: default, port: 9080 }]\n  rules: [{ backendRefs: [{ name: reviews-v2, namespace: default }] }]\n', "frontend"),
      ].join("---\n"),
    });
  });

  it("a producer route", () => {
    const out = meshgate("explain", "--policies", dir, "http://reviews:9080/x");
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/^service: +default\/reviews port 9080: producer routes \(in the Service's namespace, for every caller\)$/m);
    expect(out.stdout).toMatch(/^route: +default\/reviews, rule default\/reviews\/rule-0 \(.*\), producer route, parentRefs\[0\] Service default\/reviews port 9080$/m);
    expect(out.stdout).toMatch(/^backend: +default\/reviews-v1 100%/m);
  });

  it("a consumer route, for a gateway in the consumer's namespace", () => {
    const out = meshgate("explain", "--policies", dir, "--namespace", "frontend", "http://reviews.default:9080/x");
    expect(out.stdout).toMatch(/^service: +default\/reviews port 9080: consumer routes of namespace frontend/m);
    expect(out.stdout).toMatch(/^route: +frontend\/reviews-from-frontend, .*consumer route, parentRefs\[0\] Service default\/reviews port 9080$/m);
    expect(out.stdout).toMatch(/^backend: +default\/reviews-v2 100%/m);
  });

  it("the default route, on a port no route claims", () => {
    const trail = JSON.parse(meshgate("explain", "--policies", dir, "--json", "http://details.default.svc.cluster.local/d").stdout) as { routing: { service: { name: string; servedBy: string }; considered: { mesh?: string; rule: string }[] }; balance: { backendRefs: { backend: string }[] } };
    expect(trail.routing.service).toMatchObject({ name: "default/details", servedBy: expect.stringMatching(/^the default route/) });
    expect(trail.routing.considered).toEqual([expect.objectContaining({ mesh: "default route of Service default/details", rule: "default/details/default-route" })]);
    expect(trail.balance.backendRefs.map((r) => r.backend)).toEqual(["default/details"]);
  });

  it("nothing, when the Service has routes on other ports only and no Backend", () => {
    const out = meshgate("explain", "--policies", dir, "http://reviews/x");
    expect(out.stdout).toMatch(/^service: +default\/reviews port 80: nothing: no mesh route claims this port and the Service has no Backend$/m);
    expect(out.stdout).toMatch(/^decision: .*404/m);
  });
});

describe("meshgate validate: a Service parent written without its group", () => {
  it("says that `kind: Service` alone is not the core Service", async () => {
    const dir = await folder({ "b.yaml": BACKENDS, "r.yaml": route("x", "  parentRefs: [{ kind: Service, name: reviews }]\n  rules: [{ backendRefs: [{ name: details }] }]\n") });
    expect(meshgate("validate", dir).stdout).toContain('r.yaml:document#0: spec.parentRefs[0].group: warning: kind Service without group "" names gateway.networking.k8s.io/Service, which does not exist: write group: "" to make Service reviews this route\'s mesh parent');
  });
});
