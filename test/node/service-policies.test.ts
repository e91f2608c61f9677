import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

// Policies that follow a Service: they apply wherever the chosen backendRef is that Service.
let reviews: TestUpstream, ratings: TestUpstream, details: TestUpstream;
let pins: TestUpstream[];
let gw: TestGateway;

const route = (name: string, prefix: string, refs: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name} }
spec:
  rules:
    - matches: [{ path: { type: PathPrefix, value: ${prefix} } }]
      backendRefs: ${refs}
---
`;

const allowHeader = (name: string, target: string, header: string, value: string) => `apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: ${name} }
spec:
  targetRefs: [${target}]
  authorization:
    rules: [{ name: only, action: ALLOW, headers: [{ name: ${header}, values: ["${value}"] }] }]
---
`;

const policies = `${allowHeader("reviews-admins", '{ group: "", kind: Service, name: reviews }', "x-user", "admin")}${allowHeader("guarded-route", "{ kind: HTTPRoute, name: guarded }", "x-route", "yes")}apiVersion: meshgate.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: ratings-chaos }
spec:
  targetRefs: [{ kind: Service, name: ratings }]
  fault: { abort: { status: 503 }, header: x-chaos }
---
apiVersion: meshgate.dev/v1alpha1
kind: RateLimitPolicy
metadata: { name: details-limit }
spec:
  targetRefs: [{ group: "", kind: Service, name: details }]
  rules: [{ name: all, key: shared, limit: { requests: 3, period: 1m } }]
---
apiVersion: meshgate.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: pinned-affinity }
spec:
  targetRefs: [{ kind: Service, name: pinned }]
  sessionAffinity: { header: x-user }
---
apiVersion: meshgate.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: ghost }
spec:
  targetRefs: [{ group: "", kind: Service, name: nowhere }]
  fault: { abort: { status: 500 } }
`;

beforeAll(async () => {
  [reviews, ratings, details] = (await Promise.all(["reviews", "ratings", "details"].map(startUpstream))) as [TestUpstream, TestUpstream, TestUpstream];
  pins = await Promise.all(["p1", "p2", "p3"].map(startUpstream));
  gw = await startTestGateway({
    "backends.yaml": [backendYaml("reviews", [reviews.url]), backendYaml("ratings", [ratings.url]), backendYaml("details", [details.url]), backendYaml("pinned", pins.map((u) => u.url))].join("---\n"),
    "routes.yaml":
      route("reviews", "/reviews", "[{ name: reviews, port: 9080 }]") +
      route("ratings", "/ratings", "[{ name: ratings, port: 9080 }]") +
      route("details", "/details", "[{ name: details, port: 9080 }]") +
      route("guarded", "/guarded", "[{ name: reviews, port: 9080 }]") +
      route("pinned", "/pinned", "[{ name: pinned, port: 9080 }]") +
      route("split", "/split", "[{ name: reviews, port: 9080, weight: 1 }, { name: ratings, port: 9080, weight: 1 }]"),
    "policies.yaml": policies,
  });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([reviews, ratings, details, ...(pins ?? [])].map((u) => u?.close()));
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${gw.url}${path}`, { headers });

describe("Service-targeted policies", () => {
  it("a SecurityPolicy on a Service guards every route whose backendRef is that Service", async () => {
    expect((await get("/reviews")).status).toBe(403);
    const ok = await get("/reviews", { "x-user": "admin" });
    expect([ok.status, ok.headers.get("x-upstream")]).toEqual([200, "reviews"]);
    expect(reviews.received.filter((r) => r.headers["x-user"] !== "admin")).toEqual([]);
  });

  it("is evaluated in addition to a route-attached SecurityPolicy: both must allow", async () => {
    expect((await get("/guarded", { "x-route": "yes" })).status).toBe(403); // the Service's refuses
    expect((await get("/guarded", { "x-user": "admin" })).status).toBe(403); // the route's refuses
    const both = await get("/guarded", { "x-route": "yes", "x-user": "admin" });
    expect([both.status, both.headers.get("x-upstream")]).toEqual([200, "reviews"]);
  });

  it("a weighted split over two Services applies each Service's own policies to its share", async () => {
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const res = await get("/split", { "x-chaos": "1" });
      const what = `${res.status} ${res.headers.get("x-upstream") ?? (res.status === 503 ? "fault" : "gateway")}`;
      outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
      await res.arrayBuffer();
    }
    // reviews' share is refused by its SecurityPolicy, ratings' share aborted by its fault; nothing reaches either.
    expect([...outcomes.keys()].sort()).toEqual(["403 gateway", "503 fault"]);
    const before = reviews.received.length + ratings.received.length;
    const admitted = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const res = await get("/split", { "x-user": "admin" });
      admitted.add(`${res.status} ${res.headers.get("x-upstream")}`);
    }
    expect([...admitted].sort()).toEqual(["200 ratings", "200 reviews"]);
    expect(reviews.received.length + ratings.received.length - before).toBe(40);
  });

  it("a RateLimitPolicy on a Service counts the Service's traffic", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await get("/details")).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(details.received.length).toBe(3);
  });

  it("a Service's sessionAffinity keeps each client on one of the Service's endpoints", async () => {
    const all = new Set<string | null>();
    for (const user of ["ana", "bo", "cy", "dee", "eli", "fay", "gus", "hal"]) {
      const seen = new Set<string | null>();
      for (let i = 0; i < 6; i++) seen.add((await get("/pinned", { "x-user": user })).headers.get("x-upstream"));
      expect(seen.size).toBe(1);
      all.add([...seen][0]!);
    }
    expect(all.size).toBeGreaterThan(1);
  });

  it("explain names the Service-targeted policies each share passes", async () => {
    const res = await fetch(`${gw.adminUrl}/explain?url=${encodeURIComponent(`${gw.url}/split`)}`);
    const body = JSON.stringify(await res.json());
    expect(body).toContain('"servicePolicies":{"service":"default/reviews","securityPolicy":"default/reviews-admins"}');
    expect(body).toContain('"servicePolicies":{"service":"default/ratings","trafficPolicy":"default/ratings-chaos"}');
  });

  it("warns about a policy targeting a Service nobody names", async () => {
    const config = (await (await fetch(`${gw.adminUrl}/config`)).json()) as { warnings: string[] };
    expect(config.warnings.map((w) => w.replace(`${gw.dir}/`, ""))).toContain(
      "policies.yaml:document#5: spec.targetRefs[0].name: warning: no Service default/nowhere (no Backend, Service document or reference names it); the policy applies to nothing there",
    );
  });
});
