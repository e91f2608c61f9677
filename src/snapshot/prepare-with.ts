import type { PolicyIssue } from "../policy/issues.js";
import type { ParseCache, ParseOptions, PolicySource, RawDocument } from "../policy/parse-sources.js";
import { validateDocuments, type PolicySet } from "./validate.js";

// Parsing and validating, apart from compiling: the Node policy worker thread runs these and
// needs none of the compilers (every module it loads is start-up time on the way to ready).
// The parser is passed in, so the worker can parse without the `yaml` package (prepare.ts
// prepares with it).

/** YAML and JSON sources into documents (parse.ts, or parse-sources.ts with the worker's choice of YAML parser). */
export type ParseSources = (sources: readonly PolicySource[], options: ParseOptions) => { documents: RawDocument[]; issues: PolicyIssue[] };

/**
 * Parsed and validated policies: plain data (no functions, no class instances), so a worker
 * thread can prepare them and post them to the thread that compiles (runtime/node/policy-worker.ts).
 */
export interface PreparedPolicies {
  readonly set: PolicySet;
  /** Syntax problems, before the set's own validation issues. */
  readonly parseIssues: readonly PolicyIssue[];
  /** Documents per source file, in source order (0 for an empty or comments-only file). */
  readonly documents: readonly (readonly [string, number])[];
  /** sourcesHash of the sources these came from. */
  readonly hash: string;
}

/** Parse with `parseSources`, then validate: every per-document cost of a load, with nothing compiled yet. */
export function prepareWith(parseSources: ParseSources, sources: readonly PolicySource[], hash: string, options: { readonly yaml?: ParseOptions["yaml"]; readonly cache?: ParseCache } = {}): PreparedPolicies {
  const cache = options.cache;
  const parsed = parseSources(sources, { yaml: options.yaml ?? "parse", ...(cache !== undefined ? { cache } : {}) });
  const set = validateDocuments(parsed.documents, cache);
  cache?.endLoad();
  const documents = new Map(sources.map((s) => [s.name, 0]));
  for (const d of parsed.documents) documents.set(d.file, (documents.get(d.file) ?? 0) + 1);
  return { set, parseIssues: parsed.issues, documents: [...documents], hash };
}
