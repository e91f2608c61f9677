import { compileSnapshot } from "../snapshot/compile-snapshot.js";
import { emptySourceIssues } from "../snapshot/empty-sources.js";
import { PolicyError } from "../policy/issues.js";
import type { PolicySource } from "../policy/parse.js";
import type { Snapshot } from "../snapshot/snapshot.js";
import { makeBundle, type PolicyBundle } from "./bundle.js";
import { documentSources } from "../policy/document-sources.js";
import type { PublishTarget } from "./config-store.js";

export interface PublishResult {
  readonly bundle: PolicyBundle;
  readonly snapshot: Snapshot;
}

/**
 * Validates and compiles the sources first (throws PolicyError on any error, writing nothing),
 * then writes them as the next version.
 */
export async function publishSources(target: PublishTarget, given: readonly PolicySource[], publisher: string, options: { readonly force?: boolean } = {}): Promise<PublishResult> {
  // What is validated is what is written: the documents parsed once here, as the bundle carries them.
  const { sources, issues } = documentSources(given);
  const compile = (s: readonly PolicySource[]) => compileSnapshot(s, { location: target.description, files: s.map((x) => x.name) }, undefined, { serviceBindings: "warn", http2Upstreams: "warn" });
  if (issues.some((i) => i.severity === "error")) {
    // Compiling the text reports every problem at once (syntax here, fields in the other files), as validate does.
    await compile(given);
    throw new PolicyError(issues);
  }
  const snapshot = await compile(sources);
  const empty = emptySourceIssues(target.description, snapshot);
  if (empty.length > 0) throw new PolicyError(empty);
  const bundle = await makeBundle(sources, await target.nextVersion(), publisher, new Date(), options.force === true);
  await target.write(bundle);
  return { bundle, snapshot };
}

/**
 * Re-publishes an earlier bundle's sources as a new version (so versions only ever grow and
 * every gateway sees a change). Default: the version before the current one.
 */
export async function rollback(target: PublishTarget, publisher: string, toVersion?: number): Promise<PublishResult> {
  const history = await target.history();
  if (history.length === 0) throw new Error(`nothing was published to ${target.description}`);
  const version = toVersion ?? history[1]?.version;
  if (version === undefined) throw new Error(`only one version (${history[0]!.version}) exists in ${target.description}; nothing to roll back to`);
  const old = await target.get(version);
  if (old === null) throw new Error(`version ${version} is not in the kept history of ${target.description} (kept: ${history.map((h) => h.version).join(", ")})`);
  return publishSources(target, old.sources, `${publisher} (rollback to ${version})`);
}
