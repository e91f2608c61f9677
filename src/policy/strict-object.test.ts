import { describe, expect, it } from "vitest";
import * as z from "./zod.js";
import { formatPolicyIssue } from "./issues.js";
import { parseSources } from "./parse.js";
import { strictObject } from "./strict-object.js";
import { editDistance, suggestField } from "./suggest.js";
import { validateDocuments } from "../snapshot/validate.js";
import { zodIssuesToPolicy } from "./zod-issues.js";

function lines(text: string): string[] {
  const { documents, issues } = parseSources([{ name: "p.yaml", text }]);
  return [...issues, ...validateDocuments(documents).issues].map(formatPolicyIssue);
}

const security = (spec: string) => `apiVersion: meshgate.dev/v1alpha1\nkind: SecurityPolicy\nmetadata: { name: s }\nspec:\n  targetRefs: [{ name: shop }]\n${spec}`;

describe("strict schemas", () => {
  it("refuses the typos of the review with the field path and a suggestion", () => {
    expect(lines(security("  authorisation:\n    rules: [{ name: x, action: DENY, paths: [/admin/*] }]\n"))).toEqual([
      'p.yaml:document#0: spec.authorisation: unknown field "authorisation" (did you mean "authorization"?)',
      "p.yaml:document#0: spec: a SecurityPolicy needs at least one of jwt, apiKey, clientCertificate or authorization",
    ]);
    expect(lines(security("  authorization:\n    rules: [{ name: x, action: ALLOW, consumer: [a] }]\n"))).toEqual([
      'p.yaml:document#0: spec.authorization.rules[0].consumer: unknown field "consumer" (did you mean "consumers"?)',
      "p.yaml:document#0: spec.authorization.rules[0]: rule x has no condition, so it would hold for every request: add conditions (authenticated, principals, consumers, consumerMetadata, claims, sourceCIDRs, methods, paths, hosts, headers) or write match: any",
    ]);
    expect(lines(security("  authorization:\n    rules: [{ name: x, action: DENY, path: [/admin/*] }]\n"))).toEqual([
      'p.yaml:document#0: spec.authorization.rules[0].path: unknown field "path" (did you mean "paths"?)',
      "p.yaml:document#0: spec.authorization.rules[0]: rule x has no condition, so it would hold for every request: add conditions (authenticated, principals, consumers, consumerMetadata, claims, sourceCIDRs, methods, paths, hosts, headers) or write match: any",
    ]);
    const limit = "apiVersion: meshgate.dev/v1alpha1\nkind: RateLimitPolicy\nmetadata: { name: l }\nspec: { targetRefs: [{ name: shop }], rules: [{ name: r, key: shared, limit: { requests: 1, period: 1s, burstt: 3 } }] }\n";
    expect(lines(limit)).toEqual(['p.yaml:document#0: spec.rules[0].limit.burstt: unknown field "burstt" (did you mean "burst"?)']);
  });

  it("is strict in Gateway API kinds and metadata too, one issue per unknown field", () => {
    const route = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r, lables: {} }\nspec:\n  parentRefs: [{ name: g, sectionNmae: x }]\n  rules:\n  - matches: [{ path: { type: Exact, value: / }, header: [] }]\n    backendRef: []\n    zzz: 1\n";
    expect(lines(route)).toEqual([
      'p.yaml:document#0: metadata.lables: unknown field "lables" (did you mean "labels"?)',
      'p.yaml:document#0: spec.parentRefs[0].sectionNmae: unknown field "sectionNmae" (did you mean "sectionName"?)',
      'p.yaml:document#0: spec.rules[0].matches[0].header: unknown field "header" (did you mean "headers"?)',
      'p.yaml:document#0: spec.rules[0].backendRef: unknown field "backendRef" (did you mean "backendRefs"?)',
      'p.yaml:document#0: spec.rules[0].zzz: unknown field "zzz" (known fields: name, matches, filters, backendRefs, timeouts, retry, sessionPersistence)',
    ]);
    const gateway = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: { name: g }\nspec:\n  gatewayClassName: meshgate\n  listeners: [{ name: http, port: 80, protocol: HTTP, allowedRoute: {} }]\n";
    expect(lines(gateway)).toEqual(['p.yaml:document#0: spec.listeners[0].allowedRoute: unknown field "allowedRoute" (did you mean "allowedRoutes"?)']);
  });

  it("reports a union by its closest branch, not zod's bare Invalid input", () => {
    const backend = "apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: b }\nspec:\n  endpoints: [{ url: https://10.0.0.1 }]\n  tls: { clientCertificate: { certFile: a, keyFle: b } }\n";
    expect(lines(backend)[0]).toMatch(/^p\.yaml:document#0: spec\.tls\.clientCertificate\.(keyFle: unknown field "keyFle" \(did you mean "keyFile"\?\)|keyFile: )/);
  });

  it("accepts what kubectl writes into metadata and status", () => {
    const route = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r, uid: abc, resourceVersion: '1', generation: 2, managedFields: [] }\nspec: { rules: [{ backendRefs: [{ name: b }] }] }\nstatus: { parents: [] }\n";
    expect(lines(route)).toEqual([]);
  });

  it("makes a rule for every request explicit: match: any, never a rule left empty", () => {
    expect(lines(security("  authorization:\n    rules: [{ name: everyone, action: ALLOW }]\n"))).toEqual([
      "p.yaml:document#0: spec.authorization.rules[0]: rule everyone has no condition, so it would hold for every request: add conditions (authenticated, principals, consumers, consumerMetadata, claims, sourceCIDRs, methods, paths, hosts, headers) or write match: any",
    ]);
    expect(lines(security("  authorization:\n    rules: [{ name: everyone, action: ALLOW, match: any }]\n"))).toEqual([]);
    expect(lines(security("  authorization:\n    rules: [{ name: x, action: DENY, match: any, paths: [/a] }]\n"))).toEqual([
      "p.yaml:document#0: spec.authorization.rules[0].match: match: any holds for every request and cannot be combined with conditions (paths)",
    ]);
    expect(lines(security("  authorization:\n    rules: [{ name: x, action: DENY, match: all }]\n"))[0]).toContain('spec.authorization.rules[0].match: match takes only the value "any"');
  });

  it("keeps the suggestion after .extend()", () => {
    const schema = z.extend(strictObject({ alpha: z.number() }), { betaGamma: z.optional(z.number()) });
    const result = schema.safeParse({ alpha: 1, betaGama: 2 });
    expect(result.success).toBe(false);
    const issues = zodIssuesToPolicy(result.error!.issues, { file: "f", index: 0 });
    expect(issues.map((i) => [i.path, i.message])).toEqual([[["betaGama"], 'unknown field "betaGama" (did you mean "betaGamma"?)']]);
  });
});

describe("suggestField", () => {
  it("prefers plural/singular and case slips, then the nearest name within a third of its length", () => {
    expect(suggestField("consumer", ["consumers", "principals"])).toBe("consumers");
    expect(suggestField("Paths", ["paths"])).toBe("paths");
    expect(suggestField("burstt", ["requests", "period", "burst"])).toBe("burst");
    expect(suggestField("qwerty", ["requests", "period", "burst"])).toBeNull();
    expect(editDistance("authorisation", "authorization")).toBe(1);
    expect(editDistance("ab", "ba")).toBe(1);
  });
});
