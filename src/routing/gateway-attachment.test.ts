import { describe, expect, it } from "vitest";
import { explain } from "../admin/explain.js";
import { formatPolicyIssue } from "../policy/issues.js";
import { compileSnapshot } from "../snapshot/compile-snapshot.js";
import { intersect } from "./gateway-attachment.js";

const gateway = (name: string, namespace: string, listeners: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  gatewayClassName: meshgate
  listeners:
${listeners}`;
const route = (name: string, path: string, extra: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name} }
spec:
${extra}  rules: [{ matches: [{ path: { type: PathPrefix, value: ${path} } }], backendRefs: [{ name: b }] }]
`;

const docs = [
  `apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: b }\nspec: { endpoints: [{ url: "http://127.0.0.1:1" }] }\n`,
  gateway("edge", "default", `    - { name: web, hostname: "*.example.com", port: 80, protocol: HTTP }\n    - { name: admin, hostname: admin.internal, port: 443, protocol: HTTPS }\n    - { name: raw, port: 9000, protocol: TCP }\n`),
  gateway("shared", "infra", `    - { name: all, port: 80, protocol: HTTP, allowedRoutes: { namespaces: { from: All } } }\n    - { name: same, hostname: same.test, port: 81, protocol: HTTP }\n`),
  route("everywhere", "/a", "  parentRefs: [{ name: edge }]\n"),
  route("admin-only", "/b", "  parentRefs: [{ name: edge, sectionName: admin }]\n  hostnames: [admin.internal, elsewhere.test]\n"),
  route("orphan", "/c", ""),
  route("cross-ns", "/d", "  parentRefs: [{ name: shared, namespace: infra, sectionName: all }]\n"),
  route("refused-ns", "/e", "  parentRefs: [{ name: shared, namespace: infra, sectionName: same }]\n"),
  route("tcp-only", "/f", "  parentRefs: [{ name: edge, sectionName: raw }]\n"),
  route("narrowed", "/g", "  parentRefs: [{ name: edge, sectionName: web }]\n  hostnames: [\"*.shop.example.com\", api.example.com, api.other.test]\n"),
];

describe("Gateway documents and parentRefs", async () => {
  const snapshot = await compileSnapshot([{ name: "all.yaml", text: docs.join("---\n") }], { location: "test", files: ["all.yaml"] });
  const routeFor = async (url: string) => ((await explain(snapshot, { method: "GET", url })).rule as { id: string } | undefined)?.id ?? null;
  const warnings = snapshot.warnings.map(formatPolicyIssue);

  it("serves a route on every hostname its listeners allow", async () => {
    expect(await routeFor("http://shop.example.com/a")).toBe("default/everywhere/rule-0");
    expect(await routeFor("http://admin.internal/a")).toBe("default/everywhere/rule-0");
    expect(await routeFor("http://unrelated.test/a")).toBeNull();
  });

  it("narrows hostnames to the intersection with the named listener", async () => {
    expect(await routeFor("http://admin.internal/b")).toBe("default/admin-only/rule-0");
    expect(await routeFor("http://elsewhere.test/b")).toBeNull();
    expect(await routeFor("http://a.shop.example.com/g")).toBe("default/narrowed/rule-0");
    expect(await routeFor("http://api.example.com/g")).toBe("default/narrowed/rule-0");
    expect(await routeFor("http://api.other.test/g")).toBeNull();
  });

  it("follows allowedRoutes across namespaces", async () => {
    expect(await routeFor("http://any.test/d")).toBe("default/cross-ns/rule-0");
    expect(await routeFor("http://same.test/e")).toBeNull();
  });

  it("does not serve routes that attach nowhere, and says why", async () => {
    expect(await routeFor("http://x.example.com/c")).toBeNull();
    expect(await routeFor("http://x.example.com/f")).toBeNull();
    expect(warnings).toContain("all.yaml:document#5: spec.parentRefs: warning: route names no parentRefs; with Gateway documents present it is not served");
    expect(warnings).toContain("all.yaml:document#7: spec.parentRefs: warning: route is not attached to any listener, so it is not served: listener infra/shared/same accepts routes from namespace infra only");
    expect(warnings).toContain("all.yaml:document#8: spec.parentRefs: warning: route is not attached to any listener, so it is not served: listener default/edge/raw speaks TCP, not HTTP");
  });
});

describe("hostname intersection (Gateway API)", () => {
  it.each([
    [[], undefined, [null]],
    [["a.example.com"], undefined, ["a.example.com"]],
    [[], "*.example.com", ["*.example.com"]],
    [["a.example.com", "b.test"], "*.example.com", ["a.example.com"]],
    [["*.example.com"], "a.example.com", ["a.example.com"]],
    [["*.a.example.com"], "*.example.com", ["*.a.example.com"]],
    [["*.example.com"], "*.a.example.com", ["*.a.example.com"]],
    [["example.com"], "*.example.com", []],
  ] as const)("%j ∩ %s = %j", (route, listener, expected) => {
    expect(intersect(route, listener)).toEqual(expected);
  });
});

describe("policies that target a Gateway", () => {
  it("apply to the routes attached to that Gateway only", async () => {
    const policy = `apiVersion: meshgate.dev/v1alpha1\nkind: SecurityPolicy\nmetadata: { name: shared-auth, namespace: infra }\nspec:\n  targetRefs: [{ kind: Gateway, name: shared }]\n  authorization: { rules: [{ name: no-admin, action: DENY, paths: ["/admin/*"] }] }\n`;
    const snapshot = await compileSnapshot([{ name: "all.yaml", text: [...docs, policy].join("---\n") }], { location: "test", files: ["all.yaml"] });
    const security = (id: string) => snapshot.routes.entries.find((e) => e.rule.id === id)?.rule.security?.name ?? null;
    expect(security("default/cross-ns/rule-0")).toBe("infra/shared-auth");
    expect(security("default/everywhere/rule-0")).toBeNull();
  });
});
