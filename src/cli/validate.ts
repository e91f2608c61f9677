import { parseArgs } from "node:util";
import { compileSnapshot } from "../snapshot/compile-snapshot.js";
import { PolicyError, formatPolicyIssue } from "../policy/issues.js";
import { readPolicyDir } from "../runtime/node/policy-dir.js";
import { emptySourceIssues } from "../snapshot/empty-sources.js";

export const VALIDATE_OPTIONS = {
  policies: { type: "string" },
  strict: { type: "boolean", default: false },
} as const;

/**
 * `meshgate validate (--policies DIR | DIR) [--strict]`: every problem on its own line; exit 1 when
 * any is an error, or with --strict when any is a warning (CI: an unresolved backendRef is only a
 * warning, and its share of traffic then answers 500).
 */
export async function validateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: VALIDATE_OPTIONS, allowPositionals: true, strict: true });
  if (values.policies !== undefined && positionals.length > 0) throw new Error("validate takes one policy directory: --policies DIR or DIR, not both");
  if (positionals.length > 1) throw new Error(`validate takes one policy directory, got ${positionals.length}: ${positionals.join(" ")}`);
  const dir = values.policies ?? positionals[0];
  if (dir === undefined) throw new Error("validate needs a policy directory: meshgate validate --policies DIR (or meshgate validate DIR)");
  const sources = await readPolicyDir(dir);
  try {
    const snapshot = await compileSnapshot(sources, { location: dir, files: sources.map((s) => s.name) }, undefined, { serviceBindings: "warn", http2Upstreams: "warn" });
    const empty = emptySourceIssues(dir, snapshot);
    if (empty.length > 0) throw new PolicyError([...snapshot.warnings, ...empty]);
    // Under --strict the warnings are what fails the run: they go where errors go.
    const failing = values.strict && snapshot.warnings.length > 0;
    for (const w of snapshot.warnings) (failing ? process.stderr : process.stdout).write(`${formatPolicyIssue(w)}\n`);
    const { routes, rules, backends, trafficPolicies, securityPolicies, rateLimitPolicies } = snapshot.counts;
    const policies = [
      [trafficPolicies, "TrafficPolicy"],
      [securityPolicies, "SecurityPolicy"],
      [rateLimitPolicies, "RateLimitPolicy"],
    ]
      .filter(([n]) => n !== 0)
      .map(([n, kind]) => `, ${n} ${kind}(s)`)
      .join("");
    const summary = `${sources.length} file(s), ${routes} HTTPRoute(s) with ${rules} rule(s), ${backends} Backend(s)${policies}; version ${snapshot.version}`;
    if (failing) {
      process.stderr.write(`invalid (--strict): ${snapshot.warnings.length} warning(s) in ${dir}; ${summary}\n`);
      return 1;
    }
    process.stdout.write(`valid: ${summary}${snapshot.warnings.length > 0 ? ` (${snapshot.warnings.length} warning(s))` : ""}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    for (const issue of err.issues) process.stderr.write(`${formatPolicyIssue(issue)}\n`);
    const errors = err.issues.filter((i) => i.severity === "error").length;
    process.stderr.write(`invalid: ${errors} error(s) in ${dir}\n`);
    return 1;
  }
}
