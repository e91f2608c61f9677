import yaml from "js-yaml";
import { compactStrings } from "../../policy/compact-strings.js";

/**
 * YAML core-schema scalars exactly as the `yaml` package resolves them (its schema/core), so a
 * document reads the same whichever parser read it: null, booleans, 0o/decimal/0x integers,
 * floats with .inf and .nan. Nothing else is implicit (no 0b, no underscores, no timestamps).
 */
// Every plain scalar is tried against each implicit type; most are names and paths, which a
// look at their first character rules out before any pattern runs (a fifth of a cold parse).
const NULL_START = new Set(["~", "n", "N"]);
const BOOL_START = new Set(["t", "T", "f", "F"]);
const NUMBER_START = new Set([..."0123456789+-."]);
const nullType = new yaml.Type("tag:yaml.org,2002:null", { kind: "scalar", resolve: (s: string) => (s.length === 0 || NULL_START.has(s[0]!)) && /^(?:~|[Nn]ull|NULL)?$/.test(s), construct: () => null });
const boolType = new yaml.Type("tag:yaml.org,2002:bool", { kind: "scalar", resolve: (s: string) => BOOL_START.has(s[0]!) && /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(s), construct: (s: string) => s[0] === "t" || s[0] === "T" });
const intType = new yaml.Type("tag:yaml.org,2002:int", {
  kind: "scalar",
  resolve: (s: string) => NUMBER_START.has(s[0]!) && (/^0o[0-7]+$/.test(s) || /^[-+]?[0-9]+$/.test(s) || /^0x[0-9a-fA-F]+$/.test(s)),
  construct: (s: string) => (s.startsWith("0o") ? parseInt(s.slice(2), 8) : s.startsWith("0x") ? parseInt(s.slice(2), 16) : parseInt(s, 10)),
});
const floatType = new yaml.Type("tag:yaml.org,2002:float", {
  kind: "scalar",
  resolve: (s: string) => NUMBER_START.has(s[0]!) && (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(s) || /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(s) || /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(s)),
  construct: (s: string) => (s.slice(-3).toLowerCase() === "nan" ? NaN : s.slice(-3).toLowerCase() === "inf" ? (s.startsWith("-") ? -Infinity : Infinity) : parseFloat(s)),
});
const schema = yaml.FAILSAFE_SCHEMA.extend({ implicit: [nullType, boolType, intType, floatType] });

/**
 * What the fast path leaves to the `yaml` package: anchors and aliases (js-yaml shares aliased
 * objects instead of copying them, and counts no expansions), tags, complex keys, directives and
 * `...` markers. A false alarm (an `&` in a URL, a `*` in a regex) only costs the slower parse.
 */
const SLOW_PATH = /[&*!]|^[ \t-]*\?(?:[ \t]|$)|^(?:%|\.\.\.(?:[ \t]|\r?$))/m;

/** A line with something other than blanks and a comment. */
const CONTENT_OR_MARKER = /^[ \t]*[^#\s]/m;

/**
 * The documents of a YAML text, parsed by js-yaml (about eight times faster than the `yaml`
 * package on policy files), or null where the `yaml` package must decide: a text the fast path
 * leaves alone, or any error (the `yaml` package then reports it, with the usual line and column).
 * Used by the Node policy worker's ParseCache; the Worker bundle keeps one YAML parser.
 */
export function fastYamlValues(text: string): unknown[] | null {
  if (SLOW_PATH.test(text)) return null;
  try {
    const values = yaml.loadAll(text, undefined, { schema }) as unknown[];
    // Blank or comments only, without a `---`: js-yaml reads one empty document, the yaml package none.
    if (values.length === 1 && values[0] === null && !CONTENT_OR_MARKER.test(text)) return [];
    return compactStrings(values, text);
  } catch {
    return null;
  }
}
