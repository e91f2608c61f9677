import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

// Users keep routes next to their Services and Deployments: a folder as `kubectl apply -f` sees it.
let a: TestUpstream, b: TestUpstream;
let gw: TestGateway;

const manifests = (pa: number, pb: number) => `apiVersion: v1
kind: Service
metadata: { name: reviews, labels: { app: reviews } }
spec:
  type: ClusterIP
  selector: { app: reviews }
  ports:
    - { name: http, port: 9080, targetPort: ${pa}, appProtocol: http }
    - { name: admin, port: 9081, targetPort: ${pb}, protocol: TCP }
---
apiVersion: v1
kind: Service
metadata: { name: ratings }
spec:
  ports: [{ port: 9080, targetPort: 1 }]
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: bookinfo-reviews }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: reviews-v1 }
spec: { replicas: 1, template: { spec: { containers: [{ name: reviews, image: reviews:v1 }] } } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: reviews-v2 }
spec: { replicas: 1 }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings }
data: { a: b }
`;

const routes = `apiVersion: gateway.networking.k8s.io/v1beta1
kind: HTTPRoute
metadata: { name: reviews }
spec:
  rules:
    - matches: [{ path: { type: PathPrefix, value: /http } }]
      backendRefs: [{ name: reviews, port: 9080 }]
    - matches: [{ path: { type: PathPrefix, value: /admin } }]
      backendRefs: [{ name: reviews, port: 9081 }]
    - matches: [{ path: { type: PathPrefix, value: /nowhere } }]
      backendRefs: [{ name: reviews, port: 9999 }]
    - matches: [{ path: { type: PathPrefix, value: /ratings } }]
      backendRefs: [{ name: ratings, port: 9080 }]
`;

interface ConfigView { warnings: string[]; backends: { name: string; endpoints: string[] }[] }
const config = async () => {
  const view = (await (await fetch(`${gw.adminUrl}/config`)).json()) as ConfigView;
  return { ...view, warnings: view.warnings.map((w) => w.replace(`${gw.dir}/`, "")) };
};

beforeAll(async () => {
  [a, b] = (await Promise.all(["a", "b"].map(startUpstream))) as [TestUpstream, TestUpstream];
  gw = await startTestGateway({
    "k8s.yaml": manifests(a.port, b.port),
    // Endpoint URLs without a port take the targetPort of the Service port the backendRef names;
    // one with a port of its own (ratings) is kept as written.
    "backends.yaml": `${backendYaml("reviews", ["http://127.0.0.1"])}---\n${backendYaml("ratings", [b.url])}`,
    "routes.yaml": routes,
  });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([a, b].map((u) => u?.close()));
});

describe("Kubernetes manifests beside the routes", () => {
  it("a backendRef's port picks the Service port's targetPort", async () => {
    const http = await fetch(`${gw.url}/http/x`);
    expect([http.status, http.headers.get("x-upstream")]).toEqual([200, "a"]);
    const admin = await fetch(`${gw.url}/admin/x`);
    expect([admin.status, admin.headers.get("x-upstream")]).toEqual([200, "b"]);
  });

  it("an endpoint URL with its own port is kept as written", async () => {
    const res = await fetch(`${gw.url}/ratings`);
    expect([res.status, res.headers.get("x-upstream")]).toEqual([200, "b"]);
  });

  it("a port the Service does not list is a warning and its share answers 500", async () => {
    const res = await fetch(`${gw.url}/nowhere`);
    expect(res.status).toBe(500);
    const { warnings } = await config();
    expect(warnings).toContain("routes.yaml:document#0: spec.rules[2].backendRefs[0].port: warning: Service default/reviews has no port 9999 (it lists 9080, 9081); its share of traffic answers 500");
  });

  it("skips other Kubernetes kinds with one info line per kind, and reads v1beta1 HTTPRoute as v1", async () => {
    const { warnings } = await config();
    expect(warnings.filter((w) => w.includes("; skipped ("))).toEqual([
      "k8s.yaml:document#2: kind: info: v1 ServiceAccount is not a meshgate kind; skipped (1 document)",
      "k8s.yaml:document#3: kind: info: apps/v1 Deployment is not a meshgate kind; skipped (2 documents)",
      "k8s.yaml:document#5: kind: info: v1 ConfigMap is read only where a BackendTLSPolicy names it; skipped (1 document)",
    ]);
  });

  it("shows the endpoints that took a targetPort in /config", async () => {
    const { backends } = await config();
    expect(backends).toContainEqual({ name: "default/reviews:9080", endpoints: [`http://127.0.0.1:${a.port}`] });
    expect(backends).toContainEqual({ name: "default/reviews:9081", endpoints: [`http://127.0.0.1:${b.port}`] });
  });
});
