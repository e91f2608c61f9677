import * as z from "./zod.js";
import { strictObject } from "./strict-object.js";

/** RFC 7230 token: what a header name may be. */
export const headerNameSchema = z.string().check(z.minLength(1), z.maxLength(256), z.regex(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/, { message: "must be a valid HTTP header name" }));

/** A precise hostname (no wildcard, no port, no IP check beyond shape). */
export const preciseHostnameSchema = z.pipe(z.string().check(z.maxLength(253), z.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i, { message: "must be a hostname such as api.example.com (no port, no wildcard)" })), z.transform((h) => h.toLowerCase()));

/** A route hostname: precise, or one leading wildcard label (`*.example.com`). */
export const hostnameSchema = z.pipe(z.string().check(z.maxLength(253), z.regex(/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i, { message: "must be a hostname such as api.example.com or *.example.com (no port, no IP)" }), z.refine((h) => !/^[0-9.]+$/.test(h), { message: "IP addresses are not allowed as hostnames" })), z.transform((h) => h.toLowerCase()));

export const portSchema = z.number().check(z.int(), z.gte(1), z.lte(65535));

/** A reference to a backend object (Service by default). */
export const backendObjectRefSchema = strictObject({
  group: z._default(z.string(), ""),
  kind: z._default(z.string(), "Service"),
  name: z.string().check(z.minLength(1), z.maxLength(253)),
  namespace: z.optional(z.string().check(z.minLength(1), z.maxLength(63))),
  port: z.optional(portSchema),
});

/** Why a policy regex cannot run on the RE2 engine (backreference, lookaround, bad syntax), or null. */
export { safeRegexIssue as regexIssue } from "./safe-regex.js";

/**
 * Why `value` cannot be sent as an HTTP field value (RFC 9110 §5.5), or null. CR, LF, NUL and other
 * controls would split or corrupt the header block; characters above U+00FF have no byte on the
 * wire (a YAML file with invalid UTF-8 decodes to U+FFFD, which lands here too). Either would make
 * every request through the rule fail at the upstream, so they are refused at validation.
 */
export function fieldValueIssue(value: string, { trimmed }: { trimmed: boolean }): string | null {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d || c === 0x0a) return `must not contain CR or LF (found ${c === 0x0d ? "\\r" : "\\n"} at offset ${i})`;
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return `must not contain control characters (found U+${hex(c)} at offset ${i})`;
    if (c > 0xff) {
      const what = c === 0xfffd ? "U+FFFD (the file is not valid UTF-8 here?)" : `"${String.fromCodePoint(value.codePointAt(i)!)}" (U+${hex(value.codePointAt(i)!)})`;
      return `must be Latin-1 (RFC 9110 field value): ${what} at offset ${i} cannot be sent in a header; percent-encode it`;
    }
  }
  if (trimmed && /^[ \t]|[ \t]$/.test(value)) return "must not begin or end with a space or tab (RFC 9110 strips them)";
  return null;
}

function hex(c: number): string {
  return c.toString(16).toUpperCase().padStart(4, "0");
}

/** An HTTP header value written in a policy (RFC 9110 field-value), at most 4 KiB. */
export const headerFieldValueSchema = z.string().check(z.maxLength(4096), z.superRefine((v, ctx) => {
    const issue = fieldValueIssue(v, { trimmed: true });
    if (issue) ctx.addIssue({ code: "custom", message: issue });
  }));

/** A path written in a policy (rewrite, redirect): RFC 3986 path characters only, so it can go on the request line. */
export const pathValueIssue = (value: string): string | null => {
  const m = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/.exec(value);
  if (m) return `must contain only RFC 3986 path characters (found ${JSON.stringify(m[0])} at offset ${m.index}; percent-encode it)`;
  if (/%(?![0-9A-Fa-f]{2})/.test(value)) return "has a % that does not start a %XX escape";
  return null;
};
