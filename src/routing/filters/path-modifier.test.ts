import { describe, expect, it } from "vitest";
import { pathModifier } from "./path-modifier.js";

// The table from the Gateway API spec (HTTPPathModifier.replacePrefixMatch).
const TABLE: [path: string, prefix: string, replacement: string, expected: string][] = [
  ["/foo/bar", "/foo", "/xyz", "/xyz/bar"],
  ["/foo/bar", "/foo", "/xyz/", "/xyz/bar"],
  ["/foo/bar", "/foo/", "/xyz", "/xyz/bar"],
  ["/foo/bar", "/foo/", "/xyz/", "/xyz/bar"],
  ["/foo", "/foo", "/xyz", "/xyz"],
  ["/foo/", "/foo", "/xyz", "/xyz/"],
  ["/foo/bar", "/foo", "", "/bar"],
  ["/foo/", "/foo", "", "/"],
  ["/foo", "/foo", "", "/"],
  ["/foo/", "/foo", "/", "/"],
  ["/foo", "/foo", "/", "/"],
];

describe("ReplacePrefixMatch", () => {
  it.each(TABLE)("%s with prefix %s and replacement %j gives %s", (path, prefix, replacement, expected) => {
    const matched = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
    expect(pathModifier({ type: "ReplacePrefixMatch", replacePrefixMatch: replacement })(path, matched)).toBe(expected);
  });

  it("ReplaceFullPath ignores the original path", () => {
    expect(pathModifier({ type: "ReplaceFullPath", replaceFullPath: "/x" })("/a/b", "/a")).toBe("/x");
  });
});
