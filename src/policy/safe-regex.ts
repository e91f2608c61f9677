import { RE2JS } from "re2js";

/**
 * A regular expression from a policy, compiled once per snapshot on RE2JS: a linear-time
 * automaton with RE2 semantics (what Envoy runs Gateway API regexes on), pure JavaScript, so
 * the same engine on Node and Workers. Attacker input never meets a backtracking engine:
 * `/r/(a+)+` against a long run of `a`s answers in microseconds instead of minutes.
 */
export interface SafeRegex {
  readonly source: string;
  /** True when the expression matches the whole of `input` (Envoy's safe_regex is anchored). */
  test(input: string): boolean;
}

export interface SafeRegexOptions {
  readonly caseInsensitive?: boolean;
}

/** Compiles a pattern already accepted by `safeRegexIssue`; throws `RE2JSException` otherwise. */
export function compileSafeRegex(pattern: string, options: SafeRegexOptions = {}): SafeRegex {
  const re = RE2JS.compile(pattern, options.caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0);
  // Anchored: an input without the pattern's literal start cannot match, and a string compare
  // is far cheaper than the automaton (a regex route is tried before every prefix route).
  const prefix = options.caseInsensitive ? "" : literalPrefix(pattern);
  if (prefix === "") return { source: pattern, test: (input) => re.testExact(input) };
  return { source: pattern, test: (input) => input.startsWith(prefix) && re.testExact(input) };
}

const META = new Set(["\\", ".", "+", "*", "?", "(", ")", "|", "[", "]", "{", "}", "^", "$"]);
const QUANTIFIERS = new Set(["*", "+", "?", "{"]);

/**
 * The ASCII characters every whole-input match of `pattern` starts with: the leading literals,
 * minus the last one when a quantifier follows it; "" when a top-level alternation (outside
 * groups and classes) could start elsewhere, or the pattern quotes with \Q.
 */
export function literalPrefix(pattern: string): string {
  // \Q...\E quotes and POSIX classes inside [...] would need a fuller parser than this scan.
  if (pattern.includes("\\Q") || pattern.includes("[:")) return "";
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "\\") i++;
    else if (inClass) inClass = ch !== "]";
    else if (ch === "[") {
      inClass = true;
      if (pattern[i + 1] === "^") i++;
      if (pattern[i + 1] === "]") i++;
    } else if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (ch === "|" && depth === 0) return "";
  }
  let end = 0;
  while (end < pattern.length && !META.has(pattern[end]!) && pattern.charCodeAt(end) < 0x7f) end++;
  if (end < pattern.length && QUANTIFIERS.has(pattern[end]!)) end--;
  return pattern.slice(0, Math.max(0, end));
}

/** Constructs RE2 refuses because they need backtracking, named as authors know them. */
const UNSUPPORTED: readonly { readonly re: RegExp; readonly what: string }[] = [
  { re: /^\(\?=/, what: "lookahead (?=...)" },
  { re: /^\(\?!/, what: "negative lookahead (?!...)" },
  { re: /^\(\?<=/, what: "lookbehind (?<=...)" },
  { re: /^\(\?<!/, what: "negative lookbehind (?<!...)" },
  { re: /^\(\?>/, what: "atomic group (?>...)" },
  { re: /^\(\?\(/, what: "conditional (?(...)...)" },
  { re: /^\\[1-9]/, what: "backreference" },
  { re: /^\\k<[^>]*>/, what: "named backreference" },
  { re: /^\\g\{?-?[0-9]+\}?/, what: "backreference" },
  { re: /^[*+?}][+]/, what: "possessive quantifier" },
];

/**
 * Why RE2 cannot run `pattern`, naming the construct and its offset, or null when it can.
 * Scans for backtracking-only constructs first so the message says "backreference \1 at
 * offset 4" rather than RE2's terse "invalid escape sequence".
 */
export function safeRegexIssue(pattern: string): string | null {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\") {
      if (!inClass) {
        const rest = pattern.slice(i);
        for (const u of UNSUPPORTED) {
          const m = u.re.exec(rest);
          if (m && m[0].startsWith("\\")) return unsupported(`${u.what} ${m[0]}`, i);
        }
      }
      i++;
      continue;
    }
    if (inClass) {
      if (ch === "]") inClass = false;
      continue;
    }
    if (ch === "[") {
      inClass = true;
      // A `]` right after `[` or `[^` is a literal, not the end of the class.
      if (pattern[i + 1] === "^") i++;
      if (pattern[i + 1] === "]") i++;
      continue;
    }
    const rest = pattern.slice(i);
    for (const u of UNSUPPORTED) {
      const m = u.re.exec(rest);
      if (m && !m[0].startsWith("\\")) return unsupported(m[0].startsWith("(") ? u.what : `${u.what} ${m[0]}`, i);
    }
  }
  try {
    RE2JS.compile(pattern);
    return null;
  } catch (err) {
    return `invalid regular expression (RE2 syntax): ${(err as Error).message}`;
  }
}

function unsupported(construct: string, offset: number): string {
  return `${construct} at offset ${offset} is not supported: policy regexes use RE2 syntax (linear time, no backtracking)`;
}

/** `*` globs (principal ids, hosts, CORS origins) as safe regexes: `*` spans `star`, the rest is literal. */
export function compileGlob(glob: string, star = ".*", options: SafeRegexOptions = {}): SafeRegex {
  return compileSafeRegex(glob.split("*").map((part) => (part === "" ? "" : RE2JS.quote(part))).join(star), options);
}
