import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PolicyError, formatPolicyIssue } from "../../src/policy/issues.js";
import { compileSnapshot } from "../../src/snapshot/compile-snapshot.js";
import type { DiscoveredAddresses, ServiceDiscovery } from "../../src/upstream/discovery.js";
import { createCa, type TestCa } from "../support/pki.js";
import { backendYaml, prefixRoute, startTestGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

// Backend settings written for a Service: BackendTrafficPolicy (meshgate) and BackendTLSPolicy (Gateway API).
let ca: TestCa;
let tlsUpstream: Server;
let tlsPort: number;
let plain: TestUpstream[];
let gw: TestGateway;

const route = prefixRoute;

const tlsPolicy = (name: string, service: string, hostname: string, validation = "caCertificateRefs: [{ group: \"\", kind: ConfigMap, name: mesh-ca }]") => `apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: { name: ${name} }
spec:
  targetRefs: [{ group: "", kind: Service, name: ${service} }]
  validation:
    ${validation}
    hostname: ${hostname}
---
`;

beforeAll(async () => {
  ca = await createCa("backend tls policy CA");
  const cert = await ca.issue({ subject: "CN=secure", dns: ["secure.default.svc.cluster.local"], server: true });
  tlsUpstream = createServer({ cert: cert.cert, key: cert.key }, (req, res) => res.writeHead(200, { "x-upstream": "secure", "x-servername": (req.socket as import("node:tls").TLSSocket).servername || "" }).end("tls"));
  await new Promise<void>((r) => tlsUpstream.listen(0, "127.0.0.1", r));
  tlsPort = (tlsUpstream.address() as AddressInfo).port;
  plain = await Promise.all(["r1", "r2", "r3"].map(startUpstream));
  gw = await startTestGateway({
    "backends.yaml": [
      backendYaml("secure", [`http://127.0.0.1:${tlsPort}`]),
      backendYaml("wrong-name", [`http://127.0.0.1:${tlsPort}`]),
      backendYaml("untrusted", [`http://127.0.0.1:${tlsPort}`]),
      backendYaml("reviews", plain.map((u) => u.url)).replace("spec:\n", "spec:\n  circuitBreaker: { maxRequests: 5 }\n"),
    ].join("---\n"),
    "routes.yaml": route("secure", "{ name: secure, port: 443 }") + route("wrong-name", "{ name: wrong-name, port: 443 }") + route("untrusted", "{ name: untrusted, port: 443 }") + route("reviews", "{ name: reviews, port: 9080 }"),
    "policies.yaml":
      `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: mesh-ca }\ndata:\n  ca.crt: |\n${ca.cert.trim().split("\n").map((l) => `    ${l}`).join("\n")}\n---\n` +
      tlsPolicy("secure-tls", "secure", "secure.default.svc.cluster.local") +
      tlsPolicy("wrong-name-tls", "wrong-name", "other.default.svc.cluster.local") +
      tlsPolicy("untrusted-tls", "untrusted", "secure.default.svc.cluster.local", "wellKnownCACertificates: System") +
      `apiVersion: meshgate.dev/v1alpha1
kind: BackendTrafficPolicy
metadata: { name: reviews-backend }
spec:
  targetRefs: [{ group: "", kind: Service, name: reviews }]
  loadBalancer: { type: ConsistentHash, consistentHash: { header: x-user } }
  circuitBreaker: { maxRequests: 100 }
`,
  });
});

afterAll(async () => {
  await gw?.close();
  await new Promise<void>((r) => (tlsUpstream ? (tlsUpstream.closeAllConnections(), tlsUpstream.close(() => r())) : r()));
  await Promise.all((plain ?? []).map((u) => u.close()));
});

describe("BackendTLSPolicy", () => {
  it("speaks TLS to the Service's endpoints, with validation.hostname as SNI, verified against the ConfigMap's ca.crt", async () => {
    const res = await fetch(`${gw.url}/secure`);
    expect([res.status, res.headers.get("x-upstream"), res.headers.get("x-servername")]).toEqual([200, "secure", "secure.default.svc.cluster.local"]);
  });

  it("refuses an endpoint whose certificate does not name validation.hostname, or is not from the CAs", async () => {
    const wrong = await fetch(`${gw.url}/wrong-name`);
    expect(wrong.status).toBeGreaterThanOrEqual(502);
    expect(wrong.headers.get("x-upstream")).toBeNull();
    const untrusted = await fetch(`${gw.url}/untrusted`);
    expect(untrusted.status).toBeGreaterThanOrEqual(502);
    expect(untrusted.headers.get("x-upstream")).toBeNull();
  });
});

describe("BackendTrafficPolicy", () => {
  it("balances a Service by a consistent hash of a header: one user, one endpoint", async () => {
    const served = async (user: string) => {
      const seen = new Set<string | null>();
      for (let i = 0; i < 8; i++) seen.add((await fetch(`${gw.url}/reviews`, { headers: { "x-user": user } })).headers.get("x-upstream"));
      return [...seen];
    };
    const all = new Set<string | null>();
    for (const user of ["ana", "bo", "cy", "dee", "eli", "fay", "gus", "hal"]) {
      const one = await served(user);
      expect(one).toHaveLength(1);
      all.add(one[0]!);
    }
    expect(all.size).toBeGreaterThan(1);
  });

  it("replaces the Backend's own field with a warning naming both", async () => {
    const config = (await (await fetch(`${gw.adminUrl}/config`)).json()) as { warnings: string[] };
    expect(config.warnings.map((w) => w.replace(`${gw.dir}/`, ""))).toContain("backends.yaml:document#3: spec.circuitBreaker: warning: BackendTrafficPolicy default/reviews-backend writes circuitBreaker for Service default/reviews; it replaces this Backend's");
  });
});

const compile = (text: string, discovery?: ServiceDiscovery) => compileSnapshot([{ name: "p.yaml", text }], { location: "t", files: ["p.yaml"] }, undefined, discovery ? { discovery } : {});
const errorsOf = async (text: string) => {
  const err = await compile(text).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(PolicyError);
  return (err as PolicyError).issues.filter((i) => i.severity === "error").map(formatPolicyIssue);
};

describe("backend policies: validation", () => {
  it("names a missing ConfigMap, a ConfigMap without ca.crt, and CA choices that are not exactly one", async () => {
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: empty }\ndata: { other: x }\n---\n${route("a", "{ name: a, port: 80 }")}${tlsPolicy("p1", "a", "a.test", "caCertificateRefs: [{ name: nowhere }, { name: empty }]")}${tlsPolicy("p2", "a", "a.test", "wellKnownCACertificates: System\n    caCertificateRefs: [{ name: empty }]")}${tlsPolicy("p3", "a", "a.test", 'subjectAltNames: [{ type: Hostname, hostname: x }]\n    wellKnownCACertificates: System')}`;
    expect(await errorsOf(text)).toEqual([
      "p.yaml:document#3: spec.validation.caCertificateRefs: give caCertificateRefs or wellKnownCACertificates: System (exactly one)",
      "p.yaml:document#4: spec.validation.subjectAltNames: subjectAltNames is not supported yet: meshgate verifies validation.hostname",
      "p.yaml:document#2: spec.validation.caCertificateRefs[0].name: no ConfigMap default/nowhere in the policy folder; the Service's endpoints cannot be verified",
      'p.yaml:document#2: spec.validation.caCertificateRefs[1].name: ConfigMap default/empty has no PEM certificate under data["ca.crt"]; the Service\'s endpoints cannot be verified',
    ]);
    const only = `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: empty }\ndata: { other: x }\n---\n${route("a", "{ name: a, port: 80 }")}${tlsPolicy("p1", "a", "a.test", "caCertificateRefs: [{ name: nowhere }, { name: empty }]")}`;
    expect(await errorsOf(only)).toEqual([
      "p.yaml:document#2: spec.validation.caCertificateRefs[0].name: no ConfigMap default/nowhere in the policy folder; the Service's endpoints cannot be verified",
      'p.yaml:document#2: spec.validation.caCertificateRefs[1].name: ConfigMap default/empty has no PEM certificate under data["ca.crt"]; the Service\'s endpoints cannot be verified',
    ]);
  });

  it("refuses targets that are not Services", async () => {
    const text = `apiVersion: meshgate.dev/v1alpha1\nkind: BackendTrafficPolicy\nmetadata: { name: b }\nspec: { targetRefs: [{ kind: HTTPRoute, name: r }], circuitBreaker: { maxRequests: 1 } }\n---\n${tlsPolicy("t", "x", "x.test", "wellKnownCACertificates: System").replace("kind: Service", "kind: Servce")}`;
    expect(await errorsOf(text)).toEqual([
      'p.yaml:document#0: spec.targetRefs[0].kind: a BackendTrafficPolicy targets Services ({group: "", kind: Service}), not gateway.networking.k8s.io/HTTPRoute',
      "p.yaml:document#1: spec.targetRefs[0].kind: BackendTLSPolicy targets Services (kind: Service)",
    ]);
  });

  it("applies to a discovered Service too, and warns about a Service nobody names", async () => {
    const live: DiscoveredAddresses = { addresses: ["10.0.0.7"], generation: 1 };
    const discovery: ServiceDiscovery = { clusterDomain: "cluster.local", watch: () => live, settled: async () => undefined };
    const text = `${route("ratings", "{ name: ratings, port: 9080 }")}apiVersion: meshgate.dev/v1alpha1\nkind: BackendTrafficPolicy\nmetadata: { name: b }\nspec: { targetRefs: [{ kind: Service, name: ratings }, { kind: Service, name: ghost }], circuitBreaker: { maxRequests: 7 } }\n---\n${tlsPolicy("t", "ratings", "ratings.test", "wellKnownCACertificates: System")}`;
    const snapshot = await compile(text, discovery);
    const backend = snapshot.backends.get("default/ratings:9080")!;
    expect(backend.breaker).toEqual({ maxRequests: 7, maxPendingRequests: 0 });
    expect(backend.tls?.serverName).toBe("ratings.test");
    expect(backend.endpoints.map((e) => e.origin)).toEqual(["https://10.0.0.7:9080"]);
    expect(snapshot.warnings.map(formatPolicyIssue)).toContain("p.yaml:document#1: spec.targetRefs[1].name: warning: no Service default/ghost (no Backend, Service document or reference names it); the policy applies to nothing there");
  });
});
