import { describe, expect, it } from "vitest";
import { normalizePath } from "./normalize-path.js";

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
