import type { PolicyIssue } from "./issues.js";
import type { ParseCache } from "./parse-cache.js";

// Parsing without the `yaml` package loaded: the Node policy worker reads YAML with js-yaml
// (fast-yaml.ts) and loads the `yaml` package only for a text the fast path leaves to it
// (anchors, tags, any error to report), so a gateway that never needs it never loads it.
// parse.ts is the same parse with the package in hand.

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

/** The `yaml` package's side of a parse (yaml-package.ts). */
export interface YamlPackage {
  /** The values of every document in `text`, or null when any document has a problem. */
  values(text: string): unknown[] | null;
  /** A YAML file's documents, and a precise issue (file, document, line) for each problem. */
  report(source: TextSource, documents: RawDocument[], issues: PolicyIssue[]): void;
}

/** Thrown by parseSourcesWith without the `yaml` package when a text needs it. */
export class YamlPackageNeeded extends Error {
  constructor() {
    super("this text needs the yaml package, which is not loaded");
  }
}

function needed(yamlPackage: YamlPackage | null): YamlPackage {
  if (yamlPackage === null) throw new YamlPackageNeeded();
  return yamlPackage;
}

/**
 * YAML (multi-document) and JSON sources into documents; syntax errors name file, document and
 * line. `yamlPackage`: the `yaml` package's parser, or null where it is not loaded yet: then a
 * text the cache's fast parser cannot read throws YamlPackageNeeded (load it, and parse again).
 */
export function parseSourcesWith(yamlPackage: YamlPackage | null, sources: readonly PolicySource[], options: ParseOptions = {}): { documents: RawDocument[]; issues: PolicyIssue[] } {
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
    const values = options.cache?.documents(source.text, (text) => needed(yamlPackage).values(text)) ?? null;
    if (values !== null) {
      values.forEach((value, index) => {
        // Empty documents (a trailing `---`, comments only) are not policies.
        if (value !== null && value !== undefined) documents.push({ file: source.name, index, value });
      });
      continue;
    }
    needed(yamlPackage).report(source, documents, issues);
  }
  return { documents, issues };
}

/** Why a Worker refuses YAML text: it comes from a bundle written before publish parsed documents. */
const YAML_REFUSED = "YAML text, and this runtime parses no YAML (a Worker reads the parsed documents that `meshgate publish` bundles, format meshgate.dev/bundle-v2): republish with `meshgate publish`";

function isList(value: unknown): value is { items: unknown[] } {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "List" && Array.isArray((value as { items?: unknown }).items);
}
