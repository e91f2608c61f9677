import { describe, expect, it } from "vitest";
import { normalizePath, parsePathRejections } from "./normalize-path.js";

describe("normalizePath", () => {
  it.each([
    ["/a/b", "/a/b"],
    ["//admin", "/admin"],
    ["/a//b///c/", "/a/b/c/"],
    ["/a/./b", "/a/b"],
    ["/a/../admin", "/admin"],
    ["/../../admin", "/admin"],
    ["/%2e%2e/admin", "/admin"],
    ["/%2E%2e/%2e/admin", "/admin"],
    ["/%61dmin", "/admin"],
    ["/a/b/..", "/a/"],
    ["/a/%20b", "/a/%20b"],
    ["/", "/"],
  ])("%s → %s", (input, expected) => {
    expect(normalizePath(input)).toBe(expected);
  });

  it.each([["/admin;x"], ["/a%2Fb"], ["/a%2fb"], ["/a\\b"], ["/a%5Cb"]])("refuses %s with 400", (input) => {
    expect(() => normalizePath(input)).toThrow(expect.objectContaining({ code: "bad_request", status: 400 }));
  });

  it("can let encoded slashes and parameters through when configured", () => {
    expect(normalizePath("/a%2Fb;v=1", { rejectEncodedSlash: false, rejectSemicolon: false })).toBe("/a%2Fb;v=1");
  });
});

describe("parsePathRejections (serve --path-reject, MESHGATE_PATH_REJECT)", () => {
  it("turns the flag into options, and the options change what is refused", () => {
    const none = parsePathRejections("none");
    expect(none).toEqual({ rejectEncodedSlash: false, rejectBackslash: false, rejectSemicolon: false });
    expect(normalizePath("/a;b//c", none)).toBe("/a;b/c");
    expect(normalizePath("/a%2Fb", none)).toBe("/a%2Fb");
    const semicolonOnly = parsePathRejections("semicolon");
    expect(() => normalizePath("/a;b", semicolonOnly)).toThrow(/path parameters/);
    expect(normalizePath("/a%2Fb", semicolonOnly)).toBe("/a%2Fb");
    expect(parsePathRejections("encoded-slash, backslash,semicolon")).toEqual({ rejectEncodedSlash: true, rejectBackslash: true, rejectSemicolon: true });
  });

  it("names an unknown word", () => {
    expect(() => parsePathRejections("slashes")).toThrow('unknown path rejection "slashes" (known: encoded-slash, backslash, semicolon, or none)');
  });
});
