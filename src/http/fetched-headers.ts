import { HeaderList } from "./header-list.js";

/**
 * The header lines of a fetched response, remembering the platform `Headers` they were read
 * from. When the pipeline has only appended lines after them, the client's response copies
 * that `Headers` natively and appends the new lines, instead of rebuilding every line through
 * a record: in workerd each crossing into C++ is the cost, and a copy is one.
 */
export class FetchedHeaderList extends HeaderList {
  private readonly original: readonly string[];

  constructor(
    lines: string[],
    /** Exactly the lines read (nothing dropped), or null when the transport dropped some. */
    private readonly source: Headers | null,
  ) {
    super(lines);
    this.original = source === null ? [] : lines.slice();
  }

  /**
   * The upstream's `Headers` with every line added after the original ones, or null when a
   * line read from upstream was changed, removed or reordered (the caller rebuilds them all).
   */
  copyWithAppended(): Headers | null {
    const source = this.source;
    const original = this.original;
    const lines = this.lines;
    if (source === null || lines.length < original.length) return null;
    for (let i = 0; i < original.length; i++) if (lines[i] !== original[i]) return null;
    const headers = new Headers(source);
    for (let i = original.length; i < lines.length; i += 2) headers.append(lines[i]!, lines[i + 1]!);
    return headers;
  }
}
