import { describe, expect, it } from "vitest";
import { HeaderList } from "./header-list.js";

describe("HeaderList", () => {
  it("looks names up case-insensitively and keeps repeated lines apart", () => {
    const h = new HeaderList(["Set-Cookie", "a=1", "X-A", "1", "set-cookie", "b=2"]);
    expect(h.get("set-cookie")).toBe("a=1");
    expect(h.getAll("set-cookie")).toEqual(["a=1", "b=2"]);
    expect(h.getJoined("set-cookie")).toBe("a=1, b=2");
    h.append("X-A", "2");
    expect(h.lines).toEqual(["Set-Cookie", "a=1", "X-A", "1", "set-cookie", "b=2", "X-A", "2"]);
  });

  it("set replaces every line of a name with one, in place of the first", () => {
    const h = new HeaderList(["x-a", "1", "y", "k", "X-A", "2"]);
    h.set("x-a", "3");
    expect(h.lines).toEqual(["x-a", "3", "y", "k"]);
    h.set("z", "new");
    expect(h.lines).toEqual(["x-a", "3", "y", "k", "z", "new"]);
  });

  it("delete and deleteAll remove every matching line", () => {
    const h = new HeaderList(["A", "1", "b", "2", "a", "3", "C", "4"]);
    expect(h.delete("a")).toBe(true);
    expect(h.lines).toEqual(["b", "2", "C", "4"]);
    h.deleteAll(new Set(["c"]));
    expect(h.lines).toEqual(["b", "2"]);
    expect(h.delete("missing")).toBe(false);
  });
});
