/**
 * Header lines as Web `Headers`, built with one constructor call from a record instead of one
 * `append` per line: in workerd every Headers call crosses into C++, and eight appends cost
 * twice what one record does. A name that repeats (set-cookie, a second `x-a` line) is appended
 * after construction, in order, so the result equals appending every line. Throws the
 * TypeError Headers throws for an invalid name or value.
 */
export function webHeaders(lines: readonly string[]): Headers {
  // No prototype, so "constructor" or "toString" are plain keys; record converters drop a
  // "__proto__" key, so that name is appended like a repeat.
  const record: Record<string, string> = Object.create(null) as Record<string, string>;
  // Repeats are found case-insensitively (Headers folds `X-A` into `x-a`), but the record keeps
  // each name as written so that a name Headers refuses is still refused.
  const seen = new Set<string>();
  let repeats: number[] | null = null;
  for (let i = 0; i < lines.length; i += 2) {
    const name = lines[i]!;
    const key = name.toLowerCase();
    if (seen.has(key) || name === "__proto__") (repeats ??= []).push(i);
    else {
      seen.add(key);
      record[name] = lines[i + 1]!;
    }
  }
  const headers = new Headers(record);
  if (repeats !== null) for (const i of repeats) headers.append(lines[i]!, lines[i + 1]!);
  return headers;
}
