/**
 * The value of cookie `name` in a Cookie header (lines joined by the header list, so `, ` may
 * separate them as well as `; `), or undefined.
 */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(/;\s*|,\s*/)) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
