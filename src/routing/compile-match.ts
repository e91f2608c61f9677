import type { HTTPRouteMatch } from "./httproute.js";
import type { ValueMatcher } from "./compiled-rule.js";
import { compileSafeRegex } from "../policy/safe-regex.js";
import { compilePathMatch, type PathMatcher } from "./path-match.js";

export interface CompiledMatch {
  readonly path: PathMatcher;
  readonly method: string | null;
  readonly headers: readonly ValueMatcher[];
  readonly query: readonly ValueMatcher[];
}

export function compileMatch(match: HTTPRouteMatch): CompiledMatch {
  const path = match.path ?? { type: "PathPrefix" as const, value: "/" };
  return {
    path: compilePathMatch(path.type ?? "PathPrefix", path.value ?? "/"),
    method: match.method ?? null,
    headers: (match.headers ?? []).map((h) => valueMatcher(h.name.toLowerCase(), h.type ?? "Exact", h.value)),
    query: (match.queryParams ?? []).map((q) => valueMatcher(q.name, q.type ?? "Exact", q.value)),
  };
}

function valueMatcher(name: string, type: "Exact" | "RegularExpression", value: string): ValueMatcher {
  if (type === "Exact") return { name, type, value, test: (v) => v === value };
  // RE2 (linear time), anchored: attacker-chosen header and query values never meet a backtracking engine.
  const re = compileSafeRegex(value);
  return { name, type, value, test: (v) => v !== undefined && re.test(v) };
}
