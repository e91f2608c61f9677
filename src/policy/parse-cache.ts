/** A marker line that starts a YAML document: `---` alone, or followed by a space, tab or content after one. */
const DOCUMENT_START = /^(?=---(?:[ \t]|\r?$))/m;
/** Directives (`%YAML`, `%TAG`) and document-end markers (`...`) reach across a `---`: such files are parsed whole. */
const NOT_SPLITTABLE = /^(?:%|\.\.\.(?:[ \t]|\r?$))/m;
/** A line with something other than blanks and a comment (a marker line counts). */
const CONTENT = /^[ \t]*[^#\s]/m;

/**
 * What one load parsed and validated, kept for the next one: a YAML file is split at its `---`
 * lines and each document's values are kept by the document's text, and each validation by the
 * parsed value it checked. Editing one route of ten thousand then parses and validates one
 * document. Splitting is exact: YAML forbids a `---` at the start of a line inside any content
 * (block, flow or quoted scalars alike), so it always starts a new document; files with directives
 * or `...` markers are kept whole. Only valid documents are cached: anything with a problem goes
 * through the whole-file parse that reports it. Entries the latest load did not use are dropped,
 * so the cache holds one configuration's documents. Values handed out are shared between loads:
 * callers must treat them as read-only (the worker clones them when it posts them).
 */
export class ParseCache {
  private kept = new Map<string, readonly unknown[]>();
  private used = new Map<string, readonly unknown[]>();
  private readonly validations = new WeakMap<object, unknown>();
  private parsed = 0;

  /**
   * `fast`: a quicker parser tried first for each document (null: it declines, and the caller's
   * parser decides). It must read every text it accepts exactly as the caller's parser would.
   */
  constructor(private readonly fast?: (text: string) => unknown[] | null) {}
  /** Documents the last finished load had to parse (the rest came from the cache). */
  lastParsed = 0;

  /** The values of `text`'s documents in order, parsing only what was not seen; null when `parse` finds a problem. */
  documents(text: string, parse: (text: string) => unknown[] | null): readonly unknown[] | null {
    const chunks = NOT_SPLITTABLE.test(text) ? [text] : text.split(DOCUMENT_START);
    const whole = this.wholeFile(text, chunks);
    const out: unknown[] = [];
    for (const [i, chunk] of chunks.entries()) {
      let values = this.used.get(chunk) ?? this.kept.get(chunk);
      if (values === undefined && whole !== null) {
        values = whole[i]!;
        this.parsed += values.length;
      }
      if (values === undefined) {
        const fresh = this.fast?.(chunk) ?? parse(chunk);
        if (fresh === null) return null;
        this.parsed += fresh.length;
        values = fresh;
      }
      this.used.set(chunk, values);
      for (const v of values) out.push(v);
    }
    return out;
  }

  /**
   * A file none of whose documents is known (the first load) read by the fast parser in one pass,
   * cut back into its documents: about twice as fast as a parse per document. Chunks after the
   * first start with `---`, so each holds exactly one document; the first holds one unless it is
   * blank or comments. Null (parse document by document) unless the count comes out exactly so.
   */
  private wholeFile(text: string, chunks: readonly string[]): (readonly unknown[])[] | null {
    if (this.fast === undefined || chunks.length < 2) return null;
    for (const chunk of chunks) if (this.used.has(chunk) || this.kept.has(chunk)) return null;
    const values = this.fast(text);
    if (values === null) return null;
    const firstEmpty = !CONTENT.test(chunks[0]!);
    if (values.length !== chunks.length - (firstEmpty ? 1 : 0)) return null;
    return chunks.map((_, i) => (firstEmpty ? (i === 0 ? [] : [values[i - 1]]) : [values[i]]));
  }

  /** The validation of `value` (a parsed document from `documents`), run once per value. */
  validation<T>(value: object, run: () => T): T {
    if (this.validations.has(value)) return this.validations.get(value) as T;
    const result = run();
    this.validations.set(value, result);
    return result;
  }

  /** One load is done: documents it did not use are forgotten (their validations go with them). */
  endLoad(): void {
    this.lastParsed = this.parsed;
    this.kept = this.used;
    this.used = new Map();
    this.parsed = 0;
  }
}
