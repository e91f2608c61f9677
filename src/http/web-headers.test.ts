import { describe, expect, it } from "vitest";
import { webHeaders } from "./web-headers.js";

/** What appending every line one by one gives: the behaviour webHeaders must keep. */
function appended(lines: readonly string[]): Headers {
  const h = new Headers();
  for (let i = 0; i < lines.length; i += 2) h.append(lines[i]!, lines[i + 1]!);
  return h;
}

describe("webHeaders", () => {
  const cases: Record<string, string[]> = {
    empty: [],
    distinct: ["host", "a.example", "accept", "*/*", "x-request-id", "r1"],
    "repeated name, in order": ["x-a", "1", "x-b", "2", "x-a", "3", "x-a", "4"],
    "set-cookie lines stay separate": ["set-cookie", "a=1; Path=/", "content-type", "text/plain", "set-cookie", "b=2"],
    "same name in two spellings": ["X-Trace", "one", "x-trace", "two"],
    "a repeat before the other spelling": ["x-b", "1", "x-b", "2", "X-B", "3"],
    "the other spelling before a repeat": ["X-B", "1", "x-b", "2", "X-B", "3", "x-b", "4"],
    "names an object literal would mishandle": ["__proto__", "p", "constructor", "c", "toString", "t", "hasOwnProperty", "h"],
    "values with outer whitespace": ["x-pad", "  v  ", "x-pad", "\tw"],
  };
  for (const [name, lines] of Object.entries(cases)) {
    it(`equals appending each line: ${name}`, () => {
      const got = webHeaders(lines);
      const want = appended(lines);
      expect([...got]).toEqual([...want]);
      expect(got.getSetCookie()).toEqual(want.getSetCookie());
    });
  }

  it("throws the TypeError Headers throws for an invalid name or value", () => {
    expect(() => webHeaders(["bad name", "v"])).toThrow(TypeError);
    expect(() => webHeaders(["x-ok", "1", "x-ok", "line\nbreak"])).toThrow(TypeError);
  });
});
