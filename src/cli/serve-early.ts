import cluster from "node:cluster";
import { parseArgs } from "node:util";
import { firstRead, startPolicyWorker, type StartedPolicyWorker } from "../runtime/node/policy-worker-start.js";
import { SERVE_OPTIONS } from "./serve-options.js";

/**
 * `meshgate serve --policies DIR`, before the gateway's modules load: starts the policy worker
 * thread and asks it for the first read, so starting the worker, reading, parsing and
 * validating run on another core while this thread loads the rest (about half a second of
 * modules). Null when there is nothing to start: a config store, a `--workers` primary (its
 * workers read the policies), flags serve itself will refuse.
 */
export function startServeEarly(argv: readonly string[]): StartedPolicyWorker | null {
  let values: { policies?: string | boolean | undefined; store?: string | boolean | undefined; workers?: string | boolean | undefined };
  try {
    ({ values } = parseArgs({ args: [...argv], options: SERVE_OPTIONS, strict: false }));
  } catch {
    return null;
  }
  if (typeof values.policies !== "string" || values.store !== undefined) return null;
  if (cluster.isPrimary && values.workers !== undefined && values.workers !== "1") return null;
  return startPolicyWorker(firstRead(values.policies));
}
