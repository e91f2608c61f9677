import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCliGateway, until, type CliGateway } from "../support/cli-gateway.js";
import { backendYaml } from "../support/gateway.js";
import { sendWithHost } from "../support/send-with-host.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

/**
 * Istio's Bookinfo request-routing and traffic-shifting tasks through `meshgate serve`, with the
 * Gateway API YAML Istio publishes (samples/bookinfo/gateway-api/) as written: mesh routes whose
 * parentRef is the Service (reviews:9080 …), the ingress Gateway and its route, and Backends
 * for the workloads' own Services (reviews-v1 …), which Istio's bookinfo-versions.yaml creates.
 */

const BIN = join(process.cwd(), "bin", "meshgate.js");
const WORKLOADS = ["productpage-v1", "reviews-v1", "reviews-v2", "reviews-v3", "ratings-v1", "details-v1"];

const meshRoute = (service: string, refs: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: ${service}
spec:
  parentRefs:
  - group: ""
    kind: Service
    name: ${service}
    port: 9080
  rules:
  - backendRefs:
${refs}`;
const ref = (name: string, weight?: number) => `    - name: ${name}\n      port: 9080\n${weight === undefined ? "" : `      weight: ${weight}\n`}`;

// samples/bookinfo/gateway-api/route-all-v1.yaml
const ROUTE_ALL_V1 = [meshRoute("reviews", ref("reviews-v1")), meshRoute("productpage", ref("productpage-v1")), meshRoute("ratings", ref("ratings-v1")), meshRoute("details", ref("details-v1"))].join("---\n");
// route-reviews-90-10.yaml, route-reviews-50-v3.yaml, route-reviews-v3.yaml
const REVIEWS_90_10 = meshRoute("reviews", ref("reviews-v1", 90) + ref("reviews-v2", 10));
const REVIEWS_50_V3 = meshRoute("reviews", ref("reviews-v1", 50) + ref("reviews-v3", 50));
const REVIEWS_V3 = meshRoute("reviews", ref("reviews-v3"));
// bookinfo-gateway.yaml
const BOOKINFO_GATEWAY = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: bookinfo-gateway
spec:
  gatewayClassName: istio
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes:
      namespaces:
        from: Same
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: bookinfo
spec:
  parentRefs:
  - name: bookinfo-gateway
  rules:
  - matches:
    - path:
        type: Exact
        value: /productpage
    - path:
        type: PathPrefix
        value: /static
    - path:
        type: Exact
        value: /login
    - path:
        type: Exact
        value: /logout
    - path:
        type: PathPrefix
        value: /api/v1/products
    backendRefs:
    - name: productpage
      port: 9080
`;

const upstreams: Record<string, TestUpstream> = {};
let dir: string;
let gw: CliGateway;

beforeAll(async () => {
  for (const name of [...WORKLOADS, "productpage"]) upstreams[name] = await startUpstream(name);
  dir = await mkdtemp(join(tmpdir(), "meshgate-bookinfo-"));
  await writeFile(join(dir, "bookinfo-versions.yaml"), Object.values(upstreams).map((u) => backendYaml(u.name, [u.url])).join("---\n"));
  await writeFile(join(dir, "bookinfo-gateway.yaml"), BOOKINFO_GATEWAY);
  await writeFile(join(dir, "route-all-v1.yaml"), ROUTE_ALL_V1);
  gw = await startCliGateway(["--policies", dir, "--namespace", "default"]);
});

afterAll(async () => {
  await gw?.stop();
  await Promise.all(Object.values(upstreams).map((u) => u.close()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function who(host: string, path = "/"): Promise<string> {
  const res = await sendWithHost(gw.url, `http://${host}${path}`, "GET", {});
  await res.arrayBuffer();
  return res.headers.get("x-upstream") ?? `${res.status}`;
}

async function shares(n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const b = await who("reviews:9080", "/reviews/0");
    counts[b] = (counts[b] ?? 0) + 1;
  }
  return counts;
}

/** Replaces the reviews route the way `kubectl apply -f` does, and waits for the gateway to load it. */
async function apply(text: string): Promise<void> {
  const version = async () => ((await (await fetch(`${gw.adminUrl}/config`)).json()) as { version: string }).version;
  const before = await version();
  await writeFile(join(dir, "route-reviews.yaml"), text);
  await rm(join(dir, "route-all-v1.yaml"), { force: true });
  await writeFile(join(dir, "route-others.yaml"), [meshRoute("productpage", ref("productpage-v1")), meshRoute("ratings", ref("ratings-v1")), meshRoute("details", ref("details-v1"))].join("---\n"));
  await until(async () => (await version()) !== before, 10_000, "reload");
}

describe("Bookinfo with Istio's Gateway API YAML", () => {
  it("validates without a warning: mesh routes are not 'unattached' ingress routes", () => {
    const out = spawnSync(process.execPath, [BIN, "validate", dir], { encoding: "utf8" });
    expect(out.status).toBe(0);
    expect(out.stdout.trim().split("\n")).toEqual([expect.stringMatching(/^valid: 3 file\(s\), 5 HTTPRoute\(s\)/)]);
  });

  it("route-all-v1: each Service's calls go to its v1 workload, by every spelling of the Service", async () => {
    expect(await who("reviews:9080", "/reviews/0")).toBe("reviews-v1");
    expect(await who("reviews.default.svc.cluster.local:9080", "/reviews/0")).toBe("reviews-v1");
    expect(await who("ratings:9080", "/ratings/0")).toBe("ratings-v1");
    expect(await who("details.default:9080", "/details/0")).toBe("details-v1");
    expect(await who("productpage:9080", "/productpage")).toBe("productpage-v1");
    // Mesh parentRefs name port 9080: port 80 of reviews is claimed by no route and reviews has no Backend.
    expect(await who("reviews", "/reviews/0")).toBe("404");
  });

  it("the ingress route keeps its meaning, and never takes a call addressed to a Service", async () => {
    expect(await who("bookinfo.example.com", "/productpage")).toBe("productpage");
    expect(await who(`127.0.0.1:${gw.url.split(":").pop()}`, "/api/v1/products/1")).toBe("productpage");
    expect(await who("bookinfo.example.com", "/reviews/0")).toBe("404");
    expect(await who("details:9080", "/productpage")).toBe("details-v1");
  });

  it("traffic shifting: 90/10, then 50/50 to v3, then all to v3", async () => {
    await apply(REVIEWS_90_10);
    const first = await shares(300);
    expect(Object.keys(first).sort()).toEqual(["reviews-v1", "reviews-v2"]);
    // Binomial(300, 0.1): mean 30, sd 5.2.
    expect(first["reviews-v2"]!).toBeGreaterThan(8);
    expect(first["reviews-v2"]!).toBeLessThan(60);
    await apply(REVIEWS_50_V3);
    const second = await shares(300);
    expect(Object.keys(second).sort()).toEqual(["reviews-v1", "reviews-v3"]);
    expect(second["reviews-v3"]!).toBeGreaterThan(150 - 45);
    expect(second["reviews-v3"]!).toBeLessThan(150 + 45);
    await apply(REVIEWS_V3);
    expect(await shares(50)).toEqual({ "reviews-v3": 50 });
    expect(await who("ratings:9080")).toBe("ratings-v1");
  });
});

describe("serve --namespace and --cluster-domain", () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "meshgate-ns-"));
    await writeFile(join(scratch, "backends.yaml"), [backendYaml("details", [upstreams["details-v1"]!.url], "bookinfo"), backendYaml("ratings", [upstreams["ratings-v1"]!.url], "default")].join("---\n"));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it("a bare Service name is one of the gateway's namespace; --cluster-domain sets the long form", async () => {
    const g = await startCliGateway(["--policies", scratch, "--namespace", "bookinfo", "--cluster-domain", "corp.example"]);
    try {
      const get = async (host: string) => (await sendWithHost(g.url, `http://${host}/`, "GET", {})).headers.get("x-upstream") ?? "none";
      expect(await get("details")).toBe("details-v1");
      expect(await get("details.bookinfo.svc.corp.example")).toBe("details-v1");
      expect(await get("details.bookinfo.svc.cluster.local")).toBe("none");
      expect(await get("ratings")).toBe("none");
      expect(await get("ratings.default")).toBe("ratings-v1");
    } finally {
      await g.stop();
    }
  });

  it("MESHGATE_NAMESPACE names the namespace when the flag does not", async () => {
    const saved = process.env["MESHGATE_NAMESPACE"];
    process.env["MESHGATE_NAMESPACE"] = "bookinfo";
    let g: CliGateway | undefined;
    try {
      g = await startCliGateway(["--policies", scratch]);
    } finally {
      if (saved === undefined) delete process.env["MESHGATE_NAMESPACE"];
      else process.env["MESHGATE_NAMESPACE"] = saved;
    }
    try {
      expect((await sendWithHost(g.url, "http://details/", "GET", {})).headers.get("x-upstream")).toBe("details-v1");
    } finally {
      await g.stop();
    }
  });

  it.each([
    [["--namespace", "Book_Info"], /--namespace must be a Kubernetes namespace name .*"Book_Info"/],
    [["--namespace", "a.b"], /--namespace must be a Kubernetes namespace name/],
    [["--cluster-domain", "bad domain"], /--cluster-domain must be a DNS domain such as cluster.local, got "bad domain"/],
  ])("refuses %j before serving", (flags, message) => {
    const out = spawnSync(process.execPath, [BIN, "serve", "--policies", scratch, "--port", "0", "--admin-port", "0", ...flags], { encoding: "utf8", timeout: 10_000 });
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(message);
  });
});
