/**
 * An ordered list of header lines, kept as a flat `[name, value, name, value, ...]` array.
 *
 * Why not the Web `Headers` class: it folds repeated lines into one comma-joined value
 * and validates on every call, and the Node adapter already has the raw lines. Keeping
 * lines separate is a contract (an added value is never folded into an existing one),
 * and a flat array is what both node:http and undici accept without copying.
 * Names keep the case they arrived with; lookups are case-insensitive.
 */
export class HeaderList {
  constructor(readonly lines: string[] = []) {}

  static fromEntries(entries: Iterable<readonly [string, string]>): HeaderList {
    const lines: string[] = [];
    for (const [name, value] of entries) lines.push(name, value);
    return new HeaderList(lines);
  }

  /** First value of `name` (lower-case), or undefined. */
  get(name: string): string | undefined {
    const lines = this.lines;
    for (let i = 0; i < lines.length; i += 2) {
      if (sameName(lines[i]!, name)) return lines[i + 1];
    }
    return undefined;
  }

  /** Every value of `name` joined with ", " (how matchers see repeated lines). */
  getJoined(name: string): string | undefined {
    let out: string | undefined;
    const lines = this.lines;
    for (let i = 0; i < lines.length; i += 2) {
      if (sameName(lines[i]!, name)) out = out === undefined ? lines[i + 1]! : `${out}, ${lines[i + 1]!}`;
    }
    return out;
  }

  getAll(name: string): string[] {
    const out: string[] = [];
    const lines = this.lines;
    for (let i = 0; i < lines.length; i += 2) if (sameName(lines[i]!, name)) out.push(lines[i + 1]!);
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Adds one more line; never merges into an existing line. */
  append(name: string, value: string): void {
    this.lines.push(name, value);
  }

  /** Replaces every line of `name` with a single line. */
  set(name: string, value: string): void {
    const lines = this.lines;
    let found = false;
    let w = 0;
    for (let r = 0; r < lines.length; r += 2) {
      if (sameName(lines[r]!, name)) {
        if (found) continue;
        found = true;
        lines[w] = lines[r]!;
        lines[w + 1] = value;
        w += 2;
        continue;
      }
      if (w !== r) {
        lines[w] = lines[r]!;
        lines[w + 1] = lines[r + 1]!;
      }
      w += 2;
    }
    lines.length = w;
    if (!found) lines.push(name, value);
  }

  /** Removes every line of `name`; returns whether any was present. */
  delete(name: string): boolean {
    const lines = this.lines;
    let w = 0;
    for (let r = 0; r < lines.length; r += 2) {
      if (sameName(lines[r]!, name)) continue;
      if (w !== r) {
        lines[w] = lines[r]!;
        lines[w + 1] = lines[r + 1]!;
      }
      w += 2;
    }
    const removed = w !== lines.length;
    lines.length = w;
    return removed;
  }

  /** Removes every line whose lower-case name is in `names`. */
  deleteAll(names: ReadonlySet<string>): void {
    const lines = this.lines;
    let w = 0;
    for (let r = 0; r < lines.length; r += 2) {
      const name = lines[r]!;
      if (names.has(name) || names.has(name.toLowerCase())) continue;
      if (w !== r) {
        lines[w] = name;
        lines[w + 1] = lines[r + 1]!;
      }
      w += 2;
    }
    lines.length = w;
  }

  *entries(): IterableIterator<[string, string]> {
    for (let i = 0; i < this.lines.length; i += 2) yield [this.lines[i]!, this.lines[i + 1]!];
  }

  clone(): HeaderList {
    return new HeaderList(this.lines.slice());
  }
}

/** `name` must already be lower case; most wire names are, so the cheap test goes first. */
function sameName(line: string, name: string): boolean {
  return line === name || (line.length === name.length && line.toLowerCase() === name);
}
