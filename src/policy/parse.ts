import { parseAllDocuments } from "yaml";
import type { PolicyIssue } from "./issues.js";

/** One policy source: a file's name and text (read by a runtime, or taken from a bundle). */
export interface PolicySource {
  readonly name: string;
  readonly text: string;
}

/** A document as parsed, before validation, with where it came from. */
export interface RawDocument {
  readonly file: string;
  readonly index: number;
  readonly value: unknown;
}

/** YAML (multi-document) and JSON sources into documents; syntax errors name file, document and line. */
export function parseSources(sources: readonly PolicySource[]): { documents: RawDocument[]; issues: PolicyIssue[] } {
  const documents: RawDocument[] = [];
  const issues: PolicyIssue[] = [];
  for (const source of sources) {
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
    let list: ReturnType<typeof yamlDocuments>;
    try {
      list = yamlDocuments(source.text);
    } catch (err) {
      // The parser itself gave up (e.g. nesting too deep for the stack): still name the file.
      issues.push({ file: source.name, index: 0, severity: "error", path: [], message: `invalid YAML: ${(err as Error).message}` });
      continue;
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
        // An alias bomb (aliases of aliases, "billion laughs") stops at 100 alias expansions.
        value = doc.toJS({ maxAliasCount: 100 });
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
  return { documents, issues };
}

function yamlDocuments(text: string) {
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  return Array.isArray(docs) ? docs : [docs];
}

function isList(value: unknown): value is { items: unknown[] } {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "List" && Array.isArray((value as { items?: unknown }).items);
}
