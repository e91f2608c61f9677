import { parseSourcesWith, type ParseOptions, type PolicySource, type RawDocument } from "./parse-sources.js";
import type { PolicyIssue } from "./issues.js";
import { YAML_PACKAGE } from "./yaml-package.js";

export type { DocumentsSource, ParseCache, ParseOptions, PolicySource, RawDocument, TextSource } from "./parse-sources.js";
export { yamlValues } from "./yaml-package.js";

/** YAML (multi-document) and JSON sources into documents; syntax errors name file, document and line. */
export function parseSources(sources: readonly PolicySource[], options: ParseOptions = {}): { documents: RawDocument[]; issues: PolicyIssue[] } {
  return parseSourcesWith(YAML_PACKAGE, sources, options);
}
