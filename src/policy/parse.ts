import { parseAllDocuments } from "yaml";
import { compactStrings } from "./compact-strings.js";
import type { PolicyIssue } from "./issues.js";
import type { ParseCache } from "./parse-cache.js";

export type { ParseCache } from "./parse-cache.js";

/** One policy source: a file as read (its text), or as `meshgate publish` bundles it (its documents, parsed). */
export type PolicySource = TextSource | DocumentsSource;

/** A file's name and text, YAML (many documents) or `.json`. */
export interface TextSource {
  readonly name: string;
  readonly text: string;
}

/**
 * A file's documents already parsed to JSON values, entry i being document i of the file (null
 * for an empty one, so document numbers in errors stay the file's). Read without any parser.
 */
export interface DocumentsSource {
  readonly name: string;
  readonly documents: readonly unknown[];
}

export interface ParseOptions {
  /**
   * YAML text: `parse` (Node) or `refuse` (Workers, which carry no YAML parser and read the
   * parsed documents `meshgate publish` bundles). Default `parse`.
   */
  readonly yaml?: "parse" | "refuse";
  /**
   * Documents kept from the last load: a YAML file's documents are parsed one by one and kept by
   * their text, so a reload parses only the documents that changed (parse-cache.ts says when a
   * file is split). Values may be shared with the last load: read-only.
   */
  readonly cache?: ParseCache;
}

/** A document as parsed, before validation, with where it came from. */
export interface RawDocument {
  readonly file: string;
  readonly index: number;
  readonly value: unknown;
}

/** YAML (multi-document) and JSON sources into documents; syntax errors name file, document and line. */
export function parseSources(sources: readonly PolicySource[], options: ParseOptions = {}): { documents: RawDocument[]; issues: PolicyIssue[] } {
  const documents: RawDocument[] = [];
  const issues: PolicyIssue[] = [];
  for (const source of sources) {
    if ("documents" in source) {
      source.documents.forEach((value, index) => {
        if (value !== null && value !== undefined) documents.push({ file: source.name, index, value });
      });
      continue;
    }
    if (source.name.endsWith(".json")) {
      try {
        const value: unknown = JSON.parse(source.text);
        // A JSON file may hold one document, or a list of them (kubectl's `List` too).
        const list = Array.isArray(value) ? value : isList(value) ? value.items : [value];
        list.forEach((v, index) => documents.push({ file: source.name, index, value: v }));
      } catch (err) {
        issues.push({ file: source.name, index: 0, severity: "error", path: [], message: `invalid JSON: ${(err as Error).message}` });
      }
      continue;
    }
    if (options.yaml === "refuse") {
      issues.push({ file: source.name, index: 0, severity: "error", path: [], message: YAML_REFUSED });
      continue;
    }
    // The cache gives values only for valid YAML; any problem is reported by the whole-file parse below.
    const values = options.cache?.documents(source.text, yamlValues) ?? null;
    if (values !== null) {
      values.forEach((value, index) => {
        // Empty documents (a trailing `---`, comments only) are not policies.
        if (value !== null && value !== undefined) documents.push({ file: source.name, index, value });
      });
      continue;
    }
    parseReportingErrors(source, documents, issues);
  }
  return { documents, issues };
}

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
function parseReportingErrors(source: TextSource, documents: RawDocument[], issues: PolicyIssue[]): void {
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

/** Why a Worker refuses YAML text: it comes from a bundle written before publish parsed documents. */
const YAML_REFUSED = "YAML text, and this runtime parses no YAML (a Worker reads the parsed documents that `meshgate publish` bundles, format meshgate.dev/bundle-v2): republish with `meshgate publish`";

function yamlDocuments(text: string) {
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  return Array.isArray(docs) ? docs : [docs];
}

function isList(value: unknown): value is { items: unknown[] } {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "List" && Array.isArray((value as { items?: unknown }).items);
}
