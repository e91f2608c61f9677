import { describe, expect, it } from "vitest";
import { formatPolicyIssue } from "../policy/issues.js";
import { compileSnapshot } from "./compile-snapshot.js";

const backend = `apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: reviews }\nspec: { endpoints: [{ url: "http://127.0.0.1:9" }] }\n`;
const traffic = (spec: string) => `apiVersion: meshgate.dev/v1alpha1\nkind: TrafficPolicy\nmetadata: { name: t }\nspec:\n  targetRefs: [{ kind: Service, name: reviews }]\n${spec}`;

describe("Service-targeted TrafficPolicy", () => {
  it("applies session affinity on a Service to the Service's endpoints, without a warning", async () => {
    const route = `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r }\nspec: { rules: [{ backendRefs: [{ name: reviews, port: 80 }] }] }\n`;
    const s = await compileSnapshot([{ name: "p.yaml", text: `${backend}---\n${route}---\n${traffic("  sessionAffinity: { header: x-user }\n")}` }], { location: "test", files: ["p.yaml"] });
    expect(s.warnings.map(formatPolicyIssue)).toEqual([]);
    const ref = s.routes.entries.find((e) => e.rule.id === "default/r/rule-0")!.rule.backendRefs[0]!;
    expect(ref.destination?.forward.endpointHash).toEqual({ header: "x-user", cookie: null });
  });

  it("says nothing of the fields it applies", async () => {
    const s = await compileSnapshot([{ name: "p.yaml", text: `${backend}---\n${traffic("  fault: { abort: { status: 503 } }\n")}` }], { location: "test", files: ["p.yaml"] });
    expect(s.warnings.map(formatPolicyIssue)).toEqual([]);
  });
});
