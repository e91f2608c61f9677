const NON_ASCII = /[^\x00-\x7f]/;

/**
 * `values` parsed from `text`, with every string that can be stored one byte per character made
 * so. V8 gives a string cut out of a text the text's representation: a single non-ASCII character
 * anywhere in a YAML file (an em dash in a comment) turns every header name and value, hostname
 * and path parsed from that file into a two-byte string, and every request that copies, compares,
 * lower-cases (through ICU) or writes one to a socket then pays for the conversion. JSON.parse
 * builds one-byte strings wherever the characters allow. Objects and arrays are updated in place.
 */
export function compactStrings<T>(values: T, text: string): T {
  if (!NON_ASCII.test(text)) return values;
  if (typeof values === "string") return oneByte(values) as T;
  compactIn(values, new Set());
  return values;
}

function oneByte(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}

/** Strings are replaced where they are held; an object shared by YAML aliases is visited once. */
function compactIn(value: unknown, seen: Set<object>): void {
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === "string") value[i] = oneByte(item);
      else compactIn(item, seen);
    }
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    if (typeof item === "string") record[key] = oneByte(item);
    else compactIn(item, seen);
  }
}
