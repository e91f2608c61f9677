import { describe, expect, it } from "vitest";
import { formatPolicyIssue } from "../policy/issues.js";
import { compileSnapshot } from "./compile-snapshot.js";

const backend = `apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: reviews }\nspec: { endpoints: [{ url: "http://127.0.0.1:9" }] }\n`;
const traffic = (spec: string) => `apiVersion: meshgate.dev/v1alpha1\nkind: TrafficPolicy\nmetadata: { name: t }\nspec:\n  targetRefs: [{ kind: Service, name: reviews }]\n${spec}`;

describe("Service-targeted TrafficPolicy", () => {
  it("warns, naming the field, that session affinity on a Service is not applied", async () => {
    const s = await compileSnapshot([{ name: "p.yaml", text: `${backend}---\n${traffic("  sessionAffinity: { header: x-user }\n")}` }], { location: "test", files: ["p.yaml"] });
    expect(s.warnings.map(formatPolicyIssue)).toContain("p.yaml:document#1: spec.sessionAffinity: warning: ignored on a Service-targeted TrafficPolicy: session affinity chooses between a route's backendRefs; set it in a TrafficPolicy that targets the route");
  });

  it("says nothing of the fields it applies", async () => {
    const s = await compileSnapshot([{ name: "p.yaml", text: `${backend}---\n${traffic("  fault: { abort: { status: 503 } }\n")}` }], { location: "test", files: ["p.yaml"] });
    expect(s.warnings.map(formatPolicyIssue)).toEqual([]);
  });
});
