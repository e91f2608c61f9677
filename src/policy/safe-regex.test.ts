import { describe, expect, it } from "vitest";
import { RE2JS } from "re2js";
import { compileGlob, compileSafeRegex, literalPrefix, safeRegexIssue } from "./safe-regex.js";

describe("safe regexes (RE2 semantics)", () => {
  it("match the whole input, like Envoy's safe_regex", () => {
    const re = compileSafeRegex("/api/v[0-9]+/.*");
    expect(re.test("/api/v2/users")).toBe(true);
    expect(re.test("/x/api/v2/users")).toBe(false);
    expect(compileSafeRegex("a|b").test("ab")).toBe(false);
    expect(compileSafeRegex("(?P<v>[a-z]+)-(?<n>[0-9]+)").test("abc-12")).toBe(true);
  });

  it("answer the catastrophic patterns of backtracking engines at once", () => {
    const evil = compileSafeRegex("/r/(a+)+");
    const input = `/r/${"a".repeat(50_000)}!`;
    const started = performance.now();
    expect(evil.test(input)).toBe(false);
    expect(compileSafeRegex("(x+x+)+y").test("x".repeat(10_000))).toBe(false);
    // Generous bound: a backtracking engine needs longer than the universe has for either.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("name the construct RE2 cannot run and where it is", () => {
    expect(safeRegexIssue("(a)\\1")).toBe("backreference \\1 at offset 3 is not supported: policy regexes use RE2 syntax (linear time, no backtracking)");
    expect(safeRegexIssue("(?<name>a)\\k<name>")).toMatch(/^named backreference \\k<name> at offset 10/);
    expect(safeRegexIssue("/api(?=/v1)")).toMatch(/^lookahead \(\?=\.\.\.\) at offset 4 /);
    expect(safeRegexIssue("/api(?!/v1)")).toMatch(/^negative lookahead/);
    expect(safeRegexIssue("(?<=a)b")).toMatch(/^lookbehind \(\?<=\.\.\.\) at offset 0/);
    expect(safeRegexIssue("(?<!a)b")).toMatch(/^negative lookbehind/);
    expect(safeRegexIssue("(?>a+)b")).toMatch(/^atomic group/);
    expect(safeRegexIssue("a++")).toMatch(/^possessive quantifier \+\+ at offset 1/);
    expect(safeRegexIssue("[(?=]x")).toBeNull();
    expect(safeRegexIssue("\\(?=x")).toBeNull();
    expect(safeRegexIssue("a{2,1}")).toMatch(/^invalid regular expression \(RE2 syntax\): /);
    expect(safeRegexIssue("(unclosed")).toMatch(/^invalid regular expression \(RE2 syntax\): /);
    expect(safeRegexIssue("/r/(a+)+")).toBeNull();
  });

  it("compile globs with every other character literal", () => {
    const g = compileGlob("spiffe://cluster.local/ns/*/sa/web");
    expect(g.test("spiffe://cluster.local/ns/prod/sa/web")).toBe(true);
    expect(g.test("spiffe://clusterXlocal/ns/prod/sa/web")).toBe(false);
    expect(compileGlob("a(b)+c").test("a(b)+c")).toBe(true);
    expect(compileGlob("a(b)+c").test("abc")).toBe(false);
    expect(compileGlob("https://*.example.com", "[^/]+").test("https://a.example.com")).toBe(true);
    expect(compileGlob("https://*.example.com", "[^/]+").test("https://a/b.example.com")).toBe(false);
    // Many stars against a long near-miss: polynomial for backtracking, linear here.
    expect(compileGlob("*a*a*a*a*a*a*a*a*b").test("a".repeat(20_000))).toBe(false);
  });
});

describe("a regex's literal prefix (checked before the automaton runs)", () => {
  it("is the leading literals, without one a quantifier applies to, and nothing past a top-level |", () => {
    expect(literalPrefix("/regex/[a-z]+/[0-9]+")).toBe("/regex/");
    expect(literalPrefix("/ab?c")).toBe("/a");
    expect(literalPrefix("/ab*")).toBe("/a");
    expect(literalPrefix("/ab{2}")).toBe("/a");
    expect(literalPrefix("/a(b|c)")).toBe("/a");
    expect(literalPrefix("/a|/b")).toBe("");
    expect(literalPrefix("/a(b)|/c")).toBe("");
    expect(literalPrefix("/a[|]x")).toBe("/a");
    expect(literalPrefix("/a\\|x|y")).toBe("");
    expect(literalPrefix("(?i)/admin")).toBe("");
    expect(literalPrefix("^/x")).toBe("");
    expect(literalPrefix("/caf\u00e9+")).toBe("/caf");
    expect(literalPrefix("/a[[:alpha:](]|/b")).toBe("");
    expect(literalPrefix("/a\\Q|\\E")).toBe("");
  });

  it("never changes an answer, on generated patterns and inputs", () => {
    let s = 7;
    const next = () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
    const pick = (xs: string) => xs[Math.floor(next() * xs.length)]!;
    let compared = 0;
    for (let n = 0; n < 4000; n++) {
      let pattern = "";
      const length = 1 + Math.floor(next() * 8);
      for (let i = 0; i < length; i++) pattern += pick("//abab.|()[]*+?{}^$\\1é");
      let plain: RE2JS;
      try {
        plain = RE2JS.compile(pattern);
      } catch {
        continue;
      }
      const filtered = compileSafeRegex(pattern);
      for (let k = 0; k < 12; k++) {
        let input = "";
        const len = Math.floor(next() * 6);
        for (let i = 0; i < len; i++) input += pick("/ab|é1{}");
        expect(filtered.test(input), `${pattern} on ${input}`).toBe(plain.testExact(input));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(10_000);
  });
});
