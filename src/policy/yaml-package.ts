import { parseAllDocuments } from "yaml";
import { compactStrings } from "./compact-strings.js";
import type { PolicyIssue } from "./issues.js";
import type { RawDocument, TextSource, YamlPackage } from "./parse-sources.js";

/** An alias bomb (aliases of aliases, "billion laughs") stops at 100 alias expansions. */
const MAX_ALIASES = 100;

/** The values of every document in `text`, or null when any document has a problem (parseReportingErrors says which). */
export function yamlValues(text: string): unknown[] | null {
  try {
    const values: unknown[] = [];
    for (const doc of yamlDocuments(text)) {
      if (doc.errors.length > 0) return null;
      values.push(doc.toJS({ maxAliasCount: MAX_ALIASES }));
    }
    return compactStrings(values, text);
  } catch {
    return null;
  }
}

/** A YAML file's documents, and a precise issue (file, document, line) for each problem. */
export function parseReportingErrors(source: TextSource, documents: RawDocument[], issues: PolicyIssue[]): void {
  let list: ReturnType<typeof yamlDocuments>;
  try {
    list = yamlDocuments(source.text);
  } catch (err) {
    // The parser itself gave up (e.g. nesting too deep for the stack): still name the file.
    issues.push({ file: source.name, index: 0, severity: "error", path: [], message: `invalid YAML: ${(err as Error).message}` });
    return;
  }
  let index = 0;
  for (const doc of list) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const line = e.linePos?.[0];
        const where = line ? ` (line ${line.line}, column ${line.col})` : "";
        issues.push({ file: source.name, index, severity: "error", path: [], message: `invalid YAML${where}: ${e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}` });
      }
      index++;
      continue;
    }
    let value: unknown;
    try {
      value = compactStrings(doc.toJS({ maxAliasCount: MAX_ALIASES }), source.text);
    } catch (err) {
      const message = (err as Error).message;
      issues.push({ file: source.name, index, severity: "error", path: [], message: `invalid YAML: ${/alias/i.test(message) ? `${message} (more than 100 alias expansions: an alias bomb?)` : message}` });
      index++;
      continue;
    }
    // Empty documents (a trailing `---`, comments only) are not policies.
    if (value !== null && value !== undefined) documents.push({ file: source.name, index, value });
    index++;
  }
}

function yamlDocuments(text: string) {
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  return Array.isArray(docs) ? docs : [docs];
}


/** The `yaml` package's parser, as parseSourcesWith takes it. */
export const YAML_PACKAGE: YamlPackage = { values: yamlValues, report: parseReportingErrors };
