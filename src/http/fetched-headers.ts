import { HeaderList } from "./header-list.js";
import { webHeaders } from "./web-headers.js";

const NONE: readonly string[] = [];

/** Any header list as Web `Headers`: a copy of the source for lines read from one, else rebuilt. */
export function asWebHeaders(list: HeaderList): Headers {
  return list instanceof FetchedHeaderList ? list.toHeaders() : webHeaders(list.lines);
}

/**
 * Header lines read from a platform `Headers` (a Worker's request, a fetched response),
 * remembering it. Sending them on as `Headers` again starts from a native copy of that object
 * and applies only what the pipeline changed, instead of rebuilding every line through a
 * record: in workerd each crossing into C++ is the cost, and a copy is one.
 */
export class FetchedHeaderList extends HeaderList {
  private readonly original: readonly string[];

  constructor(
    lines: string[],
    /** The Headers the lines were read from; null for none. */
    private readonly source: Headers | null,
    /** Names the source has that the reader left out of `lines` (hop-by-hop ones), lower-case. */
    private readonly dropped: readonly string[] = NONE,
  ) {
    super(lines);
    this.original = source === null ? [] : lines.slice();
  }

  /** A copy of the source without the names left out when it was read. */
  private copy(): Headers {
    const headers = new Headers(this.source!);
    for (const name of this.dropped) headers.delete(name);
    return headers;
  }

  /**
   * The lines as `Headers`, equal to `webHeaders(this.lines)` (it throws the same TypeError for
   * a name or value Headers refuses).
   */
  toHeaders(): Headers {
    return this.copyWithAppended() ?? this.copyWithChanges() ?? webHeaders(this.lines);
  }

  /**
   * The source with every line added after the original ones, or null when a line read from it
   * was changed, removed or moved.
   */
  copyWithAppended(): Headers | null {
    const source = this.source;
    const original = this.original;
    const lines = this.lines;
    if (source === null || lines.length < original.length) return null;
    for (let i = 0; i < original.length; i++) if (lines[i] !== original[i]) return null;
    const headers = this.copy();
    for (let i = original.length; i < lines.length; i += 2) headers.append(lines[i]!, lines[i + 1]!);
    return headers;
  }

  /**
   * The source with the names whose values changed written anew, the names gone deleted and new
   * names appended; null where that could differ from rebuilding (set-cookie lines, which
   * Headers keeps apart, or a name that is not ASCII but lower-cases to one of the source's).
   */
  copyWithChanges(): Headers | null {
    const source = this.source;
    if (source === null) return null;
    const original = this.original;
    // The values each source name has now: undefined when no line of it is left.
    const now = new Map<string, string[] | undefined>();
    for (let i = 0; i < original.length; i += 2) {
      if (original[i] === "set-cookie") return null;
      now.set(original[i]!, undefined);
    }
    if (now.size * 2 !== original.length) return null;
    const lines = this.lines;
    let added: number[] | null = null;
    for (let i = 0; i < lines.length; i += 2) {
      let name = lines[i]!;
      if (!now.has(name)) {
        const lower = name.toLowerCase();
        if (!now.has(lower)) {
          if (lower === "set-cookie") return null;
          (added ??= []).push(i);
          continue;
        }
        // Only an ASCII spelling is the same header (K, the Kelvin sign, lower-cases to k).
        if (/[^\x21-\x7e]/.test(name)) return null;
        name = lower;
      }
      const values = now.get(name);
      if (values === undefined) now.set(name, [lines[i + 1]!]);
      else values.push(lines[i + 1]!);
    }
    const headers = this.copy();
    let at = 1;
    for (const [name, values] of now) {
      // Source lines are one per name (Headers joins repeats), in the order `now` has them.
      const was = original[at]!;
      at += 2;
      if (values === undefined) headers.delete(name);
      else if (values.length === 1) {
        if (values[0] !== was) headers.set(name, values[0]!);
      } else if (!(values.every(trimmed) && values.join(", ") === was)) {
        // Each value is trimmed on its own, as appending them one by one does.
        headers.delete(name);
        for (const value of values) headers.append(name, value);
      }
    }
    if (added !== null) for (const i of added) headers.append(lines[i]!, lines[i + 1]!);
    return headers;
  }
}

/** No leading or trailing HTTP whitespace (what Headers would strip). */
function trimmed(value: string): boolean {
  return value === "" || (!isSpace(value.charCodeAt(0)) && !isSpace(value.charCodeAt(value.length - 1)));
}
const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

