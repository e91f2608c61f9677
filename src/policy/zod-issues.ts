import type * as z from "./zod.js";
import type { PolicyIssue, PolicyLocation } from "./issues.js";

type Path = (string | number)[];

/**
 * zod's issues as policy issues: one per unknown field (its path ends at the field, its message
 * carries the suggestion `strictObject` made), and a union that matched no branch reported by
 * the branch that came closest, instead of zod's bare "Invalid input".
 */
export function zodIssuesToPolicy(issues: readonly z.core.$ZodIssue[], at: PolicyLocation, prefix: Path = []): PolicyIssue[] {
  const out: PolicyIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))];
    if (issue.code === "unrecognized_keys") {
      const lines = issue.message.split("\n");
      issue.keys.forEach((key, i) => {
        const line = lines.length === issue.keys.length ? lines[i]! : `unknown field "${key}"`;
        out.push({ ...at, severity: "error", path: [...path, key], message: line });
      });
      continue;
    }
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      const closest = closestBranch(issue.errors);
      if (closest !== null) {
        out.push(...zodIssuesToPolicy(closest, at, path));
        continue;
      }
    }
    out.push({ ...at, severity: "error", path, message: issue.message });
  }
  return out;
}

/**
 * The branch whose complaints are deepest (it got furthest into the value) and then fewest.
 * A branch that failed only at the top (wrong type) says nothing useful about the others.
 */
function closestBranch(branches: readonly (readonly z.core.$ZodIssue[])[]): readonly z.core.$ZodIssue[] | null {
  let best: readonly z.core.$ZodIssue[] | null = null;
  let bestScore = -Infinity;
  for (const branch of branches) {
    if (branch.length === 0) continue;
    const depth = Math.max(...branch.map((i) => i.path.length + (i.code === "unrecognized_keys" ? 1 : 0)));
    const score = depth * 100 - branch.length;
    if (score > bestScore) {
      best = branch;
      bestScore = score;
    }
  }
  // Every branch refused the value's type outright: zod's own message lists what was expected.
  return bestScore <= 0 ? null : best;
}
