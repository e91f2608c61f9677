import { describe, expect, it } from "vitest";
import { parseSources, yamlValues } from "../../policy/parse.js";
import { ParseCache } from "../../policy/parse-cache.js";
import { fastYamlValues } from "./fast-yaml.js";

// The fast path must read every text it accepts exactly as the `yaml` package does, and leave
// to it every text it cannot read the same way (and every invalid one, for its precise errors).

const SCALARS = [
  "1", "-1", "+1", "0", "-0", "007", "0o17", "0o8", "0x1F", "0x1g", "-0x1", "0b101", "1_000", "1.5", ".5", "1.", "-.5", "1e3", "1.5E-3", "+1e+3", "1e", ".inf", "-.Inf", "+.INF", ".nan", ".NaN", ".NAN", ".Nan",
  "true", "True", "TRUE", "tRUE", "false", "False", "FALSE", "yes", "no", "on", "off", "y", "n",
  "null", "Null", "NULL", "nULL", "~", "", "2026-01-01", "2026-01-01T10:00:00Z", "12:30", "1:20:30",
  '"quoted: \\"x\\" \\u00e9 \\t tab"', "'single ''quote'''", '"multi\n  line"', "plain with # not a comment", "plain # a comment", "'#'", "a:b", "http://x:80/p?q=1", "é ü 中文", "<<",
];

const DOCS = [
  ...SCALARS.map((s) => `key: ${s}\n`),
  ...SCALARS.map((s) => `list: [${s === "" ? "''" : s}, x]\n`),
  "a:\n  b:\n    - 1\n    - two\n    - { c: 3, d: [4, 5] }\n",
  "text: |\n  line one\n  line two\n\nkeep: |+\n  kept\n\nstrip: >-\n  folded\n  words\n\n  para\n",
  "plain: this is\n  a multi-line\n  plain scalar\n",
  "- a\n- b: 1\n  c: 2\n- - nested\n",
  "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r, labels: { app: web } }\nspec:\n  hostnames: [\"a.example.com\"]\n  rules:\n    - matches: [{ path: { type: PathPrefix, value: /x } }]\n      backendRefs: [{ name: b, port: 80, weight: 1 }]\n",
  "# only a comment\n",
  "\n\n",
  "null\n",
  "# c\n---\na: 1\n",
  "a: 1\n---\n# c\n",
  "---\n---\n",
  "",
  "---\n",
  "--- # marker with a comment\nx: 1\n",
  "--- { a: 1 }\n",
  "empty:\nnested:\n  also:\n",
  "'quoted key': 1\n\"other\": 2\n",
  "__proto__: 1\nconstructor: 2\n",
  "a: 1 # trailing\nb: 2\n",
  "a:\t1\n",
];

const INVALID = ["a: 1\na: 2\n", "a: [1, 2\n", "a: {b: 1\n", "a: 'unterminated\n", "a:\n  - 1\n - 2\n", "a: b: c\n", "- a\nb: 1\n", "\ta: 1\n", "a: \"\\q\"\n", "key: @x\n", "key: `x\n"];

describe("fastYamlValues", () => {
  it("reads every text it accepts as the yaml package does", () => {
    let accepted = 0;
    for (const text of DOCS) {
      const fast = fastYamlValues(text);
      if (fast === null) continue;
      accepted++;
      expect({ text, values: fast }).toStrictEqual({ text, values: yamlValues(text) });
    }
    // Most of them go the fast way: a fast path that declines everything would pass the line above.
    expect(accepted).toBeGreaterThan(DOCS.length * 0.9);
  });

  it("never accepts a text the yaml package finds invalid", () => {
    for (const text of INVALID) {
      expect(yamlValues(text), text).toBeNull();
      expect(fastYamlValues(text), text).toBeNull();
    }
  });

  it("leaves anchors, aliases, tags, complex keys and directives to the yaml package", () => {
    for (const text of ["a: &x 1\nb: *x\n", "a: !!str 1\n", "? complex\n: value\n", "%YAML 1.2\n---\na: 1\n", "a: 1\n...\n", "bomb: &a [1]\nb: [*a, *a]\n"]) expect(fastYamlValues(text), text).toBeNull();
  });
});

describe("ParseCache with fastYamlValues (a first load reads a file in one pass)", () => {
  const doc = (i: number) => `apiVersion: v1\nkind: Service\nmetadata: { name: s-${i} }\n`;
  const pieces = ["# head comment\n", doc(1), "---\n", doc(2), "--- # marked\n", doc(3), "---\n", "---\n# only a comment\n", "--- \n", doc(4), "---\n", "text: |\n  block\n  ---not a marker\n", "---\n", "'quoted\n  --- inside'\n", "---\n", "list: [1, 2.5, true, null, 0x1f]\n"];

  it("gives the documents, indexes and errors of the yaml package's whole-file parse, cold and after an edit", () => {
    for (let mask = 0; mask < 1 << 12; mask += 5) {
      const text = pieces.filter((_, i) => i >= 12 || (mask & (1 << i)) !== 0).join("");
      const sources = [{ name: "f.yaml", text }];
      const cache = new ParseCache(fastYamlValues);
      const expected = parseSources(sources);
      expect(parseSources(sources, { cache }), text).toStrictEqual(expected);
      cache.endLoad();
      const edited = [{ name: "f.yaml", text: `${text}---\n${doc(9)}` }];
      expect(parseSources(edited, { cache }), text).toStrictEqual(parseSources(edited));
      cache.endLoad();
    }
  });

  it("counts a cold file's documents as parsed, and an unchanged one's as cached", () => {
    const cache = new ParseCache(fastYamlValues);
    const text = Array.from({ length: 50 }, (_, i) => doc(i)).join("---\n");
    parseSources([{ name: "f.yaml", text }], { cache });
    cache.endLoad();
    expect(cache.lastParsed).toBe(50);
    parseSources([{ name: "f.yaml", text }], { cache });
    cache.endLoad();
    expect(cache.lastParsed).toBe(0);
  });
});
