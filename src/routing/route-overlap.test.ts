import { describe, expect, it } from "vitest";
import type { PolicyIssue } from "../policy/issues.js";
import type { Located } from "../policy/located.js";
import type { HTTPRoute, HTTPRouteMatch } from "./httproute.js";
import { warnOverlaps } from "./route-overlap.js";

// The definition before only overlapping routes were sorted (the previous implementation, verbatim).
function reference(routes: readonly Located<HTTPRoute>[], issues: PolicyIssue[]): void {
  const open = routes.filter((r) => r.doc.spec.hostnames.length === 0 && r.doc.spec.parentRefs.length === 0).sort((a, b) => ageRef(a).localeCompare(ageRef(b)));
  const owner = new Map<string, { route: Located<HTTPRoute>; at: string }>();
  for (const route of open) {
    route.doc.spec.rules.forEach((rule, r) =>
      rule.matches.forEach((m, i) => {
        const key = matchKeyRef(m);
        const first = owner.get(key);
        const at = `rules[${r}].matches[${i}]`;
        if (first === undefined) return void owner.set(key, { route, at });
        if (first.route === route) return;
        const other = first.route.doc.metadata;
        issues.push({
          file: route.file,
          index: route.index,
          severity: "warning",
          path: ["spec", "rules", r, "matches", i],
          message: `matches the same requests as HTTPRoute ${other.namespace}/${other.name} ${first.at}, and neither route has hostnames or parentRefs: every such request goes to ${other.namespace}/${other.name}, none to this route (give the routes hostnames, or Service parentRefs for mesh routes)`,
        });
      }),
    );
  }
}

function matchKeyRef(m: HTTPRouteMatch): string {
  const type = m.path?.type ?? "PathPrefix";
  let value = m.path?.value ?? "/";
  // "/foo" and "/foo/" are the same prefix.
  if (type === "PathPrefix" && value.length > 1 && value.endsWith("/")) value = value.slice(0, -1);
  const headers = (m.headers ?? []).map((h) => `${h.name.toLowerCase()}\u0001${h.type ?? "Exact"}\u0001${h.value}`).sort();
  const query = (m.queryParams ?? []).map((q) => `${q.name}\u0001${q.type ?? "Exact"}\u0001${q.value}`).sort();
  return JSON.stringify([type, value, m.method ?? null, headers, query]);
}

function ageRef(r: Located<HTTPRoute>): string {
  const { creationTimestamp, namespace, name } = r.doc.metadata;
  return `${creationTimestamp ?? ""}\u0000${namespace}/${name}`;
}

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("warnOverlaps", () => {
  it("warns exactly where an age-ordered pass over every open route does, in the same order", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
      const routes: Located<HTTPRoute>[] = Array.from({ length: 1 + Math.floor(r() * 30) }, (_, n) => ({
        file: "f.yaml",
        index: n,
        doc: {
          metadata: { namespace: pick(["default", "b"]), name: `r${Math.floor(r() * 40)}`, ...(r() < 0.3 ? { creationTimestamp: pick(["2024-01-01T00:00:00Z", "2023-01-01T00:00:00Z"]) } : {}) },
          spec: {
            hostnames: r() < 0.2 ? ["h.test"] : [],
            parentRefs: [],
            rules: Array.from({ length: 1 + Math.floor(r() * 2) }, () => ({ matches: Array.from({ length: 1 + Math.floor(r() * 2) }, () => ({ path: { type: pick(["PathPrefix", "Exact"] as const), value: pick(["/", "/a", "/a/", "/b"]) }, ...(r() < 0.3 ? { method: "GET" as const } : {}) })) })),
          },
        } as unknown as HTTPRoute,
      }));
      const got: PolicyIssue[] = [];
      const want: PolicyIssue[] = [];
      warnOverlaps(routes, got);
      reference(routes, want);
      expect(got, `seed ${seed}`).toEqual(want);
    }
  });
});
