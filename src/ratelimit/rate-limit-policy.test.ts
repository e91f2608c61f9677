import { describe, expect, it } from "vitest";
import { rateLimitPolicySchema } from "./rate-limit-policy.js";

const policy = (rule: Record<string, unknown>) => ({
  apiVersion: "meshgate.dev/v1alpha1",
  kind: "RateLimitPolicy",
  metadata: { name: "rl" },
  spec: { targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "web" }], rules: [{ name: "r", key: "shared", ...rule }] },
});
const issues = (rule: Record<string, unknown>) => {
  const r = rateLimitPolicySchema.safeParse(policy(rule));
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("RateLimitPolicy: an error in one field does not cascade", () => {
  it("an invalid period is one error, not also 'cost is larger than the burst'", () => {
    expect(issues({ limit: { requests: 5, period: "10x" } })).toEqual(['spec.rules.0.limit.period: expected a Gateway API duration such as "500ms", "10s" or "1h30m"']);
    expect(issues({ limit: { requests: 5, period: "1y", burst: 2 }, cost: 3 })).toHaveLength(1);
  });

  it("an invalid cost is its own error only", () => {
    expect(issues({ limit: { requests: 5, period: "10s" }, cost: 0 })).toHaveLength(1);
  });

  it("a cost above a valid burst is still refused", () => {
    expect(issues({ limit: { requests: 5, period: "10s", burst: 2 }, cost: 3 })).toEqual(["spec.rules.0.cost: cost is larger than the burst: no request could ever pass"]);
  });

  it("a rule that is not an object is one error, never a TypeError from the cost check", () => {
    for (const rule of ["x", 1.5, null, []]) {
      const r = rateLimitPolicySchema.safeParse({ ...policy({}), spec: { ...policy({}).spec, rules: [rule] } });
      expect(r.success).toBe(false);
      expect(r.success ? [] : r.error.issues.map((i) => i.path.join("."))).toEqual(["spec.rules.0"]);
    }
  });
});
