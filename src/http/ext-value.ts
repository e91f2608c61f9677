/**
 * Identity values (JWT claims, principals, consumer names) go upstream in headers, and a header
 * value is Latin-1 at best (RFC 9110 §5.5): "Zoë 李雷" would make the upstream request fail.
 * Values that are plain visible ASCII go as they are; any other value is sent as an RFC 8187
 * ext-value, `UTF-8''` followed by the percent-encoded UTF-8 bytes, so it always fits a header,
 * carries no CR/LF, and decodes unambiguously (a value that itself starts with `UTF-8''` is
 * encoded too).
 */
export function headerSafeValue(text: string): string {
  if (PLAIN.test(text) && !text.startsWith(PREFIX)) return text;
  // encodeURIComponent leaves ' ( ) * alone; RFC 8187's attr-char does not allow them.
  return PREFIX + encodeURIComponent(text.normalize("NFC")).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const PREFIX = "UTF-8''";
/** Visible ASCII with inner spaces: what every HTTP stack passes through unchanged. */
const PLAIN = /^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$/;
