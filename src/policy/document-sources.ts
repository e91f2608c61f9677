import type { PolicyIssue } from "./issues.js";
import { parseSources, type PolicySource } from "./parse.js";

/**
 * Sources as `meshgate publish` bundles them: each file's documents parsed and normalised to
 * JSON values (what JSON cannot hold, such as YAML's `.inf`, becomes what JSON.stringify makes
 * of it), so a reader needs no YAML parser and validates exactly what publish validated.
 * A file that does not parse stays text, with its issues (publish refuses those first).
 */
export function documentSources(sources: readonly PolicySource[]): { sources: PolicySource[]; issues: PolicyIssue[] } {
  const issues: PolicyIssue[] = [];
  const out = sources.map((source): PolicySource => {
    if ("documents" in source) return source;
    const parsed = parseSources([source]);
    issues.push(...parsed.issues);
    if (parsed.issues.some((i) => i.severity === "error")) return source;
    const documents: unknown[] = [];
    for (const d of parsed.documents) {
      while (documents.length < d.index) documents.push(null);
      documents[d.index] = d.value;
    }
    return { name: source.name, documents: JSON.parse(JSON.stringify(documents)) as unknown[] };
  });
  return { sources: out, issues };
}
