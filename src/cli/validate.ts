import { parseArgs } from "node:util";
import { compileSnapshot } from "../snapshot/compile-snapshot.js";
import { PolicyError, formatPolicyIssue } from "../policy/issues.js";
import { readPolicyDir } from "../runtime/node/policy-dir.js";

/** `meshgate validate DIR`: every problem on its own line; exit 1 when any is an error. */
export async function validateCommand(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, options: {}, allowPositionals: true, strict: true });
  const dir = positionals[0];
  if (dir === undefined) throw new Error("validate needs a policy directory: meshgate validate DIR");
  const sources = await readPolicyDir(dir);
  try {
    const snapshot = await compileSnapshot(sources, { location: dir, files: sources.map((s) => s.name) });
    for (const w of snapshot.warnings) process.stdout.write(`${formatPolicyIssue(w)}\n`);
    const { routes, rules, backends, trafficPolicies, securityPolicies, rateLimitPolicies } = snapshot.counts;
    const policies = [
      [trafficPolicies, "TrafficPolicy"],
      [securityPolicies, "SecurityPolicy"],
      [rateLimitPolicies, "RateLimitPolicy"],
    ]
      .filter(([n]) => n !== 0)
      .map(([n, kind]) => `, ${n} ${kind}(s)`)
      .join("");
    process.stdout.write(`valid: ${sources.length} file(s), ${routes} HTTPRoute(s) with ${rules} rule(s), ${backends} Backend(s)${policies}; version ${snapshot.version}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    for (const issue of err.issues) process.stderr.write(`${formatPolicyIssue(issue)}\n`);
    const errors = err.issues.filter((i) => i.severity === "error").length;
    process.stderr.write(`invalid: ${errors} error(s) in ${dir}\n`);
    return 1;
  }
}
