import { parseArgs } from "node:util";
import { PolicyError, formatPolicyIssue } from "../policy/issues.js";
import { publishSources, rollback } from "../config/publish.js";
import { readPolicyDir } from "../runtime/node/policy-dir.js";
import { TARGET_OPTIONS, defaultPublisher, publishTarget } from "./targets.js";

/** `meshgate publish --policies DIR TARGET`: validate, compile, then write one versioned bundle. */
export const PUBLISH_OPTIONS = { ...TARGET_OPTIONS, policies: { type: "string" }, force: { type: "boolean", default: false } } as const;
export const ROLLBACK_OPTIONS = { ...TARGET_OPTIONS, to: { type: "string" } } as const;
// history writes nothing, so it has no --publisher.
const { publisher: _publisher, ...HISTORY_TARGET } = TARGET_OPTIONS;
export const HISTORY_OPTIONS = HISTORY_TARGET;

export async function publishCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: PUBLISH_OPTIONS, strict: true });
  if (!values.policies) throw new Error("publish needs --policies DIR");
  const sources = await readPolicyDir(values.policies);
  const target = publishTarget(values);
  try {
    const { bundle, snapshot } = await publishSources(target, sources, values.publisher ?? defaultPublisher(), { force: values.force });
    for (const w of snapshot.warnings) process.stderr.write(`${formatPolicyIssue(w)}\n`);
    process.stdout.write(`published version ${bundle.version} (${bundle.hash.slice(0, 12)}) to ${target.description}: ${sources.length} file(s), ${snapshot.counts.routes} route(s), ${snapshot.counts.backends} backend(s)\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    for (const issue of err.issues) process.stderr.write(`${formatPolicyIssue(issue)}\n`);
    process.stderr.write(`not published: ${err.issues.filter((i) => i.severity === "error").length} error(s)\n`);
    return 1;
  } finally {
    await target.close?.();
  }
}

/** `meshgate rollback [--to VERSION] TARGET`: re-publish an earlier bundle as a new version. */
export async function rollbackCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: ROLLBACK_OPTIONS, strict: true });
  const target = publishTarget(values);
  try {
    const to = values.to === undefined ? undefined : Number(values.to);
    if (to !== undefined && !Number.isInteger(to)) throw new Error(`--to must be a version number (got "${values.to}")`);
    const { bundle } = await rollback(target, values.publisher ?? defaultPublisher(), to);
    process.stdout.write(`rolled back: version ${bundle.version} now serves the policies of ${bundle.publisher.replace(/.*rollback to /, "version ").replace(/\)$/, "")} (${bundle.hash.slice(0, 12)})\n`);
    return 0;
  } finally {
    await target.close?.();
  }
}

/** `meshgate history TARGET`: the kept versions, newest first. */
export async function historyCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: HISTORY_OPTIONS, strict: true });
  const target = publishTarget(values);
  try {
    const versions = await target.history();
    if (versions.length === 0) {
      // stderr: stdout stays one line per version for scripts (none here).
      process.stderr.write(`no versions published to ${target.description} yet (meshgate publish --policies DIR writes the first)\n`);
      return 0;
    }
    for (const h of versions) process.stdout.write(`${h.version}\t${h.hash.slice(0, 12)}\t${h.createdAt}\t${h.publisher}\n`);
    return 0;
  } finally {
    await target.close?.();
  }
}
