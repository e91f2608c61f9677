import type { PeerCertificate } from "../http/principal.js";

/**
 * Every x-forwarded-client-cert line as one list (RFC 9110: repeated lines are one comma-joined
 * field): a client's own line comes first and the trusted proxy appends its element last, so
 * reading the first line would believe the client.
 */
export function xfccList(lines: readonly string[]): string | undefined {
  return lines.length === 0 ? undefined : lines.length === 1 ? lines[0] : lines.join(",");
}

/**
 * Envoy's x-forwarded-client-cert: `By=...;Hash=...;Subject="...";URI=spiffe://...`, one
 * element per proxy hop, comma separated. The last element is what the nearest proxy saw.
 * Returns null when the header is absent or unparsable (treated as no certificate).
 */
export function parseXfcc(header: string | undefined): PeerCertificate | null {
  if (header === undefined) return null;
  const elements = splitOutsideQuotes(header, ",");
  const last = elements[elements.length - 1]?.trim();
  if (!last) return null;
  const uris: string[] = [];
  let subject = "";
  let hash = "";
  for (const pair of splitOutsideQuotes(last, ";")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) return null;
    const key = pair.slice(0, eq).trim().toLowerCase();
    let value = pair.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1).replace(/\\"/g, '"');
    if (key === "uri") uris.push(value);
    else if (key === "subject") subject = value;
    else if (key === "hash") hash = value.toLowerCase();
  }
  if (uris.length === 0 && subject === "") return null;
  // The proxy verified the certificate before forwarding it; trusting the proxy is the check.
  return { verified: true, error: null, subject, issuer: "", uris, fingerprint: hash };
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "\\" && quoted) i++;
    else if (ch === '"') quoted = !quoted;
    else if (ch === separator && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}
