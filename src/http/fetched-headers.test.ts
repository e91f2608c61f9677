import { describe, expect, it } from "vitest";
import { FetchedHeaderList } from "./fetched-headers.js";
import { webHeaders } from "./web-headers.js";

/** The lines a transport reads from a fetched response (set-cookie lines last, one each). */
function readLines(source: Headers): string[] {
  const lines: string[] = [];
  source.forEach((value, name) => {
    if (name !== "set-cookie") lines.push(name, value);
  });
  for (const cookie of source.getSetCookie()) lines.push("set-cookie", cookie);
  return lines;
}

const upstream = () =>
  new Headers([
    ["content-type", "text/plain"],
    ["x-a", "1"],
    ["x-a", "2"],
    ["set-cookie", "s=1; Path=/"],
    ["set-cookie", "t=2"],
    ["cache-control", "no-store"],
  ]);

/** What the client gets: the copy when it applies, else every line rebuilt. */
const delivered = (list: FetchedHeaderList) => list.copyWithAppended() ?? webHeaders(list.lines);
const same = (a: Headers, b: Headers) => {
  expect([...a]).toEqual([...b]);
  expect(a.getSetCookie()).toEqual(b.getSetCookie());
};

describe("FetchedHeaderList", () => {
  it("copies the upstream Headers when the pipeline only appended lines", () => {
    const source = upstream();
    const list = new FetchedHeaderList(readLines(source), source);
    list.append("x-meshgate-config-version", "7");
    list.append("x-a", "3");
    list.set("x-new", "v");
    const copy = list.copyWithAppended();
    expect(copy).not.toBeNull();
    same(copy!, webHeaders(list.lines));
    expect(copy!.get("x-a")).toBe("1, 2, 3");
  });

  it("rebuilds when an upstream line was changed, removed or replaced", () => {
    for (const change of [(l: FetchedHeaderList) => l.set("x-a", "9"), (l: FetchedHeaderList) => l.delete("cache-control"), (l: FetchedHeaderList) => l.deleteAll(new Set(["content-type"])), (l: FetchedHeaderList) => void (l.lines[1] = "text/html")]) {
      const source = upstream();
      const list = new FetchedHeaderList(readLines(source), source);
      change(list);
      list.append("x-added", "1");
      expect(list.copyWithAppended()).toBeNull();
    }
  });

  it("never copies a source the transport dropped lines from", () => {
    const list = new FetchedHeaderList(["content-type", "text/plain"], null);
    expect(list.copyWithAppended()).toBeNull();
  });

  it("delivers what rebuilding every line delivers, for generated edits", () => {
    const names = ["x-a", "content-type", "set-cookie", "cache-control", "x-b", "X-B", "vary"];
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return (seed >>> 16) % n;
    };
    let copied = 0;
    for (let round = 0; round < 2000; round++) {
      const source = upstream();
      const list = new FetchedHeaderList(readLines(source), source);
      for (let step = next(4); step > 0; step--) {
        const name = names[next(names.length)]!;
        const op = next(10);
        if (op < 6) list.append(name, `v${round}`);
        else if (op === 6) list.set(name, `s${round}`);
        else if (op === 7) list.delete(name.toLowerCase());
        else if (op === 8) list.deleteAll(new Set([name.toLowerCase()]));
        else list.lines.splice(0, 2);
      }
      if (list.copyWithAppended() !== null) copied++;
      same(delivered(list), webHeaders(list.lines));
    }
    // Both paths are exercised.
    expect(copied).toBeGreaterThan(200);
    expect(copied).toBeLessThan(1900);
  });
});
