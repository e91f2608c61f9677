import { GatewayError } from "../http/gateway-error.js";

export interface PathNormalizationOptions {
  /** Reject %2F / %5C in the path (400) instead of passing them through encoded. Default true. */
  readonly rejectEncodedSlash?: boolean;
  /** Reject a raw backslash (400). Default true. */
  readonly rejectBackslash?: boolean;
  /** Reject ";" path parameters (400): "/admin;x" must not slip past a rule on "/admin". Default true. */
  readonly rejectSemicolon?: boolean;
}

const UNRESERVED = /%(2[DEde]|2[Ee]|3[0-9]|4[1-9A-Fa-f]|5[0-9Aa]|5[Ff]|6[1-9A-Fa-f]|7[0-9Aa]|7[Ee])/g;
const NEEDS_WORK = /\/\/|\/\.|%|\\|;/;

/**
 * The path every later stage sees and the upstream receives: slashes merged, dot segments
 * resolved, percent-encoded unreserved characters decoded (RFC 3986 §6.2.2). Anything that
 * could make two spellings of one path differ for a rule is either folded or refused.
 */
export function normalizePath(path: string, options: PathNormalizationOptions = {}): string {
  if (!NEEDS_WORK.test(path)) return path;
  if ((options.rejectBackslash ?? true) && path.includes("\\")) throw new GatewayError("bad_request", "backslash in request path");
  if ((options.rejectSemicolon ?? true) && path.includes(";")) throw new GatewayError("bad_request", "path parameters (;) are not accepted");
  if ((options.rejectEncodedSlash ?? true) && /%2f|%5c/i.test(path)) throw new GatewayError("bad_request", "encoded slash or backslash in request path");
  const decoded = path.replace(UNRESERVED, (m) => String.fromCharCode(parseInt(m.slice(1), 16)));
  const out: string[] = [];
  const segments = decoded.split("/");
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg === "" && i < segments.length - 1) continue; // merge slashes
    if (seg === ".") {
      if (i === segments.length - 1) out.push("");
      continue;
    }
    if (seg === "..") {
      out.pop();
      if (i === segments.length - 1) out.push("");
      continue;
    }
    out.push(seg);
  }
  return `/${out.join("/")}`;
}

const REJECTABLE = { "encoded-slash": "rejectEncodedSlash", backslash: "rejectBackslash", semicolon: "rejectSemicolon" } as const;

/**
 * `encoded-slash,backslash,semicolon` (the default), a subset, or `none`, as the CLI flag and the
 * Workers variable spell it. What is not rejected passes through (encoded slashes stay encoded).
 */
export function parsePathRejections(text: string): PathNormalizationOptions {
  const wanted = text.trim() === "none" ? [] : text.split(",").map((t) => t.trim()).filter(Boolean);
  for (const w of wanted) if (!(w in REJECTABLE)) throw new Error(`unknown path rejection "${w}" (known: ${Object.keys(REJECTABLE).join(", ")}, or none)`);
  return { rejectEncodedSlash: wanted.includes("encoded-slash"), rejectBackslash: wanted.includes("backslash"), rejectSemicolon: wanted.includes("semicolon") };
}

/**
 * The rejections `options` turns off, each with what it lets through: DENY rules written for
 * `/admin` can then be dodged by `/admin;x`, `/admin%2Fx` or `\\admin` at an upstream that reads
 * those as `/admin`. Runtimes log this once at start.
 */
export function pathRejectionWarning(options: PathNormalizationOptions): string | null {
  const off: string[] = [];
  if (options.rejectEncodedSlash === false) off.push("encoded-slash (%2F, %5C)");
  if (options.rejectBackslash === false) off.push("backslash (\\)");
  if (options.rejectSemicolon === false) off.push("semicolon (;)");
  if (off.length === 0) return null;
  return `path rejections off: ${off.join(", ")}; authorization rules (DENY paths) can be bypassed at upstreams that read these spellings as another path`;
}
