import { sourcesHash } from "../policy/source-hash.js";
import type { PolicySource } from "../policy/parse.js";
import { preparePolicies } from "./prepare.js";
import { compilePrepared } from "./compile-prepared.js";
import type { Snapshot, SnapshotSource } from "./snapshot.js";
import type { CompileOptions } from "./compile-prepared.js";

export { compilePrepared, type CompileOptions, type CompileYield } from "./compile-prepared.js";
export { preparePolicies, type PreparedPolicies } from "./prepare.js";

/**
 * Policy sources into an immutable Snapshot: parse, validate, resolve, compile.
 * Throws PolicyError with every problem found when any document is invalid.
 */
export async function compileSnapshot(sources: readonly PolicySource[], source: SnapshotSource, version?: string, options: CompileOptions = {}): Promise<Snapshot> {
  return compilePrepared(preparePolicies(sources, await sourcesHash(sources), { yaml: options.yaml ?? "parse" }), source, version, options);
}

