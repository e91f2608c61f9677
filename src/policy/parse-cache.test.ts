import { describe, expect, it } from "vitest";
import { parseSources, yamlValues } from "./parse.js";
import { ParseCache } from "./parse-cache.js";

const doc = (i: number) => `apiVersion: v1\nkind: Service\nmetadata: { name: s-${i} }\n`;

describe("ParseCache", () => {
  it("gives the documents, indexes and errors of the whole-file parse, for any mix of markers, comments and empty documents", () => {
    const pieces = ["# head comment\n", doc(1), "---\n", doc(2), "--- # marked\n", doc(3), "---\n", "---\n# only a comment\n", "--- \n", doc(4), "---\n", "text: |\n  block\n  ---not a marker\n", "---\n", "'quoted\n  --- inside'\n"];
    // Every way of leaving pieces out, so the markers land everywhere (and twice in a row).
    for (let mask = 0; mask < 1 << 10; mask += 7) {
      const text = pieces.filter((_, i) => i >= 10 || (mask & (1 << i)) !== 0).join("");
      const sources = [{ name: "f.yaml", text }];
      const cache = new ParseCache();
      expect(parseSources(sources, { cache }), text).toStrictEqual(parseSources(sources));
      cache.endLoad();
    }
  });

  it("parses only the documents that changed since the last load, and forgets those no load uses", () => {
    const cache = new ParseCache();
    const text = Array.from({ length: 100 }, (_, i) => doc(i)).join("---\n");
    const first = parseSources([{ name: "f.yaml", text }], { cache });
    cache.endLoad();
    expect(cache.lastParsed).toBe(100);
    const edited = text.replace("s-50 }", "s-50b }");
    const second = parseSources([{ name: "f.yaml", text: edited }], { cache });
    cache.endLoad();
    expect(cache.lastParsed).toBe(1);
    expect(second.documents[50]!.value).toStrictEqual({ apiVersion: "v1", kind: "Service", metadata: { name: "s-50b" } });
    // Unchanged documents are the very objects of the last load (which validation caches on).
    expect(second.documents[49]!.value).toBe(first.documents[49]!.value);
    // The old s-50 was dropped: writing it back parses it again.
    parseSources([{ name: "f.yaml", text }], { cache });
    cache.endLoad();
    expect(cache.lastParsed).toBe(1);
  });

  it("reports a broken document with the whole file's line numbers, and caches nothing of it", () => {
    const text = `${doc(1)}---\n${doc(2)}---\nkey: [unclosed\n`;
    const cache = new ParseCache();
    const cached = parseSources([{ name: "f.yaml", text }], { cache });
    expect(cached).toStrictEqual(parseSources([{ name: "f.yaml", text }]));
    expect(cached.issues[0]).toMatchObject({ file: "f.yaml", index: 2, severity: "error" });
    // The line is the whole file's (the third document starts on line 9), not the document's own.
    expect(cached.issues[0]!.message).toMatch(/line 10, column 1/);
  });

  it("runs a fast parser first and falls back where it declines", () => {
    const seen: string[] = [];
    const cache = new ParseCache((text) => {
      seen.push(text);
      return text.includes("s-1 ") ? null : yamlValues(text);
    });
    const text = [doc(0), doc(1), doc(2)].join("---\n");
    expect(parseSources([{ name: "f.yaml", text }], { cache })).toStrictEqual(parseSources([{ name: "f.yaml", text }]));
    // A first load offers the whole file first (declined here), then each document.
    expect(seen).toEqual([text, doc(0), `---\n${doc(1)}`, `---\n${doc(2)}`]);
  });

  it("validates an unchanged document once", () => {
    const cache = new ParseCache();
    const value = {};
    let runs = 0;
    const run = () => ++runs;
    expect(cache.validation(value, run)).toBe(1);
    expect(cache.validation(value, run)).toBe(1);
    expect(cache.validation({}, run)).toBe(2);
  });
});
