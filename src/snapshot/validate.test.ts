import { describe, expect, it } from "vitest";
import { formatPolicyIssue } from "../policy/issues.js";
import { parseSources } from "../policy/parse.js";
import { validateDocuments } from "./validate.js";

const route = (name: string) => `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: ${name} }\nspec: { rules: [{ backendRefs: [{ name: b }] }] }\n`;

function validate(files: Record<string, string>) {
  const parsed = parseSources(Object.entries(files).map(([name, text]) => ({ name, text })));
  const set = validateDocuments(parsed.documents);
  return { set, lines: set.issues.map(formatPolicyIssue) };
}

describe("validateDocuments", () => {
  it("refuses a second document of the same kind, namespace and name, naming the first", () => {
    const { set, lines } = validate({ "a.yaml": route("shop"), "b.yaml": `${route("other")}---\n${route("shop")}` });
    expect(set.routes.map((r) => r.doc.metadata.name)).toEqual(["shop", "other"]);
    expect(lines).toEqual(["b.yaml:document#1: metadata.name: duplicate HTTPRoute default/shop, first defined in a.yaml:document#0"]);
  });

  it("allows one name across kinds and namespaces", () => {
    const policy = `apiVersion: meshgate.dev/v1alpha1\nkind: RateLimitPolicy\nmetadata: { name: shop }\nspec: { targetRefs: [{ name: shop }], rules: [{ name: r, key: shared, limit: { requests: 1, period: 1s } }] }\n`;
    const { set, lines } = validate({ "a.yaml": `${route("shop")}---\n${policy}---\n${route("shop").replace("name: shop", "name: shop, namespace: other")}` });
    expect(lines).toEqual([]);
    expect([set.routes.length, set.rateLimitPolicies.length]).toEqual([2, 1]);
  });

  it("points at the exact field of a bad SecurityPolicy and RateLimitPolicy", () => {
    const security = `apiVersion: meshgate.dev/v1alpha1\nkind: SecurityPolicy\nmetadata: { name: s }\nspec:\n  targetRefs: [{ name: shop }]\n  jwt: { providers: [{ name: idp, issuer: x, remoteJWKS: { uri: "ftp://x" }, algorithms: [HS256] }] }\n`;
    const limit = `apiVersion: meshgate.dev/v1alpha1\nkind: RateLimitPolicy\nmetadata: { name: l }\nspec: { targetRefs: [{ name: shop }], rules: [{ name: r, key: header, limit: { requests: 1, period: 1s } }] }\n`;
    const { lines } = validate({ "p.yaml": `${security}---\n${limit}` });
    expect(lines).toEqual([
      "p.yaml:document#0: spec.jwt.providers[0].remoteJWKS.uri: must be an http(s) URL",
      "p.yaml:document#0: spec.jwt.providers[0].algorithms: HS256 need a shared secret: use localJWKS or localKeys, never a remote key set",
      "p.yaml:document#1: spec.rules[0].keyHeader: keyHeader is required with key: header (and only then)",
    ]);
  });

  it("names the kinds it knows when it meets one it does not", () => {
    const { lines } = validate({ "x.yaml": "apiVersion: meshgate.dev/v1alpha1\nkind: AuthPolicy\nmetadata: { name: a }\n" });
    expect(lines[0]).toContain("x.yaml:document#0: kind: unknown kind AuthPolicy in meshgate.dev/v1alpha1 (known:");
  });
});

describe("Kubernetes documents", () => {
  const service = (spec: string) => `apiVersion: v1\nkind: Service\nmetadata: { name: reviews }\nspec:\n${spec}\n`;

  it("reads a v1 Service's ports and refuses a typo in them, naming the field", () => {
    const { set, lines } = validate({ "s.yaml": `${service("  ports: [{ port: 9080, targetPort: 8080, appProtocol: kubernetes.io/h2c }]")}---\n${service("  ports: [{ port: 80, targetport: 8080 }]").replace("reviews", "other")}` });
    expect(set.services.map((s) => s.doc.spec.ports)).toEqual([[{ port: 9080, targetPort: 8080, appProtocol: "kubernetes.io/h2c", protocol: "TCP" }]]);
    expect(lines).toEqual(['s.yaml:document#1: spec.ports[0].targetport: unknown field "targetport" (did you mean "targetPort"?)']);
  });

  it("refuses a Service port listed twice and a bad targetPort name", () => {
    const { lines } = validate({ "s.yaml": service("  ports: [{ port: 80 }, { port: 80, targetPort: Not_A_Name }]") });
    expect(lines).toEqual([
      "s.yaml:document#0: spec.ports[1].targetPort: must be a port number or an IANA_SVC_NAME",
      "s.yaml:document#0: spec.ports[1].port: port 80 is listed twice",
    ]);
  });

  it("skips kinds of other API groups with one info line per kind, not an error", () => {
    const doc = (apiVersion: string, kind: string, name: string) => `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: { name: ${name} }\n`;
    const { lines, set } = validate({ "k.yaml": [doc("apps/v1", "Deployment", "a"), doc("apps/v1", "Deployment", "b"), doc("v1", "ServiceAccount", "a"), doc("batch/v1", "Job", "j")].join("---\n") });
    expect(lines).toEqual([
      "k.yaml:document#0: kind: info: apps/v1 Deployment is not a meshgate kind; skipped (2 documents)",
      "k.yaml:document#2: kind: info: v1 ServiceAccount is not a meshgate kind; skipped (1 document)",
      "k.yaml:document#3: kind: info: batch/v1 Job is not a meshgate kind; skipped (1 document)",
    ]);
    expect(set.issues.every((i) => i.severity === "info")).toBe(true);
  });

  it("still refuses unknown kinds of meshgate's own groups, and points Istio kinds at the importer", () => {
    const { lines } = validate({ "k.yaml": "apiVersion: gateway.networking.k8s.io/v1\nkind: TCPRoute\nmetadata: { name: t }\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: v }\n" });
    expect(lines[0]).toContain("k.yaml:document#0: kind: unknown kind TCPRoute in gateway.networking.k8s.io/v1");
    expect(lines[1]).toBe("k.yaml:document#1: kind: Istio VirtualService is not served directly; translate it with: meshgate import istio k.yaml");
  });

  it("reads a v1beta1 HTTPRoute as v1, and counts it as a duplicate of the v1 one", () => {
    const { set, lines } = validate({ "r.yaml": `${route("shop").replace("/v1", "/v1beta1")}---\n${route("shop")}` });
    expect(set.routes.map((r) => r.doc.apiVersion)).toEqual(["gateway.networking.k8s.io/v1"]);
    expect(lines).toEqual(["r.yaml:document#1: metadata.name: duplicate HTTPRoute default/shop, first defined in r.yaml:document#0"]);
  });
});

describe("targetRefs", () => {
  const traffic = (refs: string) => `apiVersion: meshgate.dev/v1alpha1\nkind: TrafficPolicy\nmetadata: { name: t }\nspec: { targetRefs: ${refs}, fault: { abort: { status: 503 } } }\n`;

  it("names a misspelt kind, a Service outside the core group and a sectionName on a Service", () => {
    const { lines } = validate({ "t.yaml": traffic('[{ group: "", kind: Servce, name: a }, { group: gateway.networking.k8s.io, kind: Service, name: b }, { group: "", kind: HTTPRoute, name: c }, { kind: Service, name: d, sectionName: http }, { kind: httproute, name: e }]') });
    expect(lines).toEqual([
      't.yaml:document#0: spec.targetRefs[0].kind: unknown target kind "Servce" (did you mean "Service"?)',
      't.yaml:document#0: spec.targetRefs[1].group: Service is in group "" (the Kubernetes core group), not "gateway.networking.k8s.io"',
      't.yaml:document#0: spec.targetRefs[2].group: HTTPRoute is in group gateway.networking.k8s.io, not ""',
      "t.yaml:document#0: spec.targetRefs[3].sectionName: sectionName (a Service port name) is not supported on Service targets: the policy applies to every port of the Service",
      't.yaml:document#0: spec.targetRefs[4].kind: unknown target kind "httproute" (did you mean "HTTPRoute"?)',
    ]);
  });

  it("gives a Service target the core group when it writes none", () => {
    const { set, lines } = validate({ "t.yaml": traffic("[{ kind: Service, name: a }, { name: r }]") });
    expect(lines).toEqual([]);
    expect(set.trafficPolicies[0]!.doc.spec.targetRefs.map((r) => [r.group, r.kind])).toEqual([["", "Service"], ["gateway.networking.k8s.io", "HTTPRoute"]]);
  });
});

describe("policy regexes", () => {
  it("refuses what RE2 cannot run, naming the construct and the field", () => {
    const route = `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r }\nspec:\n  rules:\n    - matches:\n        - path: { type: RegularExpression, value: "/(a)\\\\1" }\n          headers: [{ type: RegularExpression, name: x-a, value: "^(?!admin)" }]\n          queryParams: [{ type: RegularExpression, name: q, value: "(?<=x)y" }]\n      backendRefs: [{ name: b }]\n`;
    expect(validate({ "r.yaml": route }).lines).toEqual([
      "r.yaml:document#0: spec.rules[0].matches[0].path.value: backreference \\1 at offset 4 is not supported: policy regexes use RE2 syntax (linear time, no backtracking)",
      "r.yaml:document#0: spec.rules[0].matches[0].headers[0].value: negative lookahead (?!...) at offset 1 is not supported: policy regexes use RE2 syntax (linear time, no backtracking)",
      "r.yaml:document#0: spec.rules[0].matches[0].queryParams[0].value: lookbehind (?<=...) at offset 0 is not supported: policy regexes use RE2 syntax (linear time, no backtracking)",
    ]);
  });
});
