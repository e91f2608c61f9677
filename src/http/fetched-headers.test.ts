import { describe, expect, it } from "vitest";
import { FetchedHeaderList } from "./fetched-headers.js";
import { webHeaders } from "./web-headers.js";

const HOP = new Set(["connection", "keep-alive"]);

/** The lines a transport reads from platform Headers (set-cookie lines last, one each; hop-by-hop names left out). */
function readLines(source: Headers, dropped: string[] = []): string[] {
  const lines: string[] = [];
  source.forEach((value, name) => {
    if (HOP.has(name)) dropped.push(name);
    else if (name !== "set-cookie") lines.push(name, value);
  });
  for (const cookie of source.getSetCookie()) lines.push("set-cookie", cookie);
  return lines;
}
/** A list read from `source` as the fetch transport reads one. */
function fetched(source: Headers): FetchedHeaderList {
  const dropped: string[] = [];
  const lines = readLines(source, dropped);
  return new FetchedHeaderList(lines, source, dropped);
}

const request = () =>
  new Headers([
    ["host", "a.example"],
    ["accept", "*/*"],
    ["x-a", "1"],
    ["x-a", "2"],
    ["cf-connecting-ip", "192.0.2.1"],
    ["cache-control", "no-store"],
  ]);
const response = () => {
  const h = request();
  h.append("set-cookie", "s=1; Path=/");
  h.append("set-cookie", "t=2");
  return h;
};

const same = (a: Headers, b: Headers) => {
  expect([...a]).toEqual([...b]);
  expect(a.getSetCookie()).toEqual(b.getSetCookie());
};
const outcome = (f: () => Headers): Headers | string => {
  try {
    return f();
  } catch (err) {
    return (err as Error).constructor.name;
  }
};

describe("FetchedHeaderList", () => {
  it("copies the source when the pipeline only appended lines", () => {
    const source = response();
    const list = new FetchedHeaderList(readLines(source), source);
    list.append("x-meshgate-config-version", "7");
    list.append("x-a", "3");
    list.set("x-new", "v");
    const copy = list.copyWithAppended();
    expect(copy).not.toBeNull();
    same(copy!, webHeaders(list.lines));
    expect(copy!.get("x-a")).toBe("1, 2, 3");
  });

  it("applies changes to a copy when source lines were changed or removed", () => {
    const source = request();
    const list = new FetchedHeaderList(readLines(source), source);
    list.set("x-a", "9");
    list.delete("cf-connecting-ip");
    list.append("X-Forwarded-For", "192.0.2.1");
    list.append("Cache-Control", "max-age=0");
    expect(list.copyWithAppended()).toBeNull();
    const copy = list.copyWithChanges();
    expect(copy).not.toBeNull();
    same(copy!, webHeaders(list.lines));
    expect(copy!.get("cache-control")).toBe("no-store, max-age=0");
    expect(copy!.has("cf-connecting-ip")).toBe(false);
  });

  it("rebuilds where a copy could differ: set-cookie lines, a non-ASCII spelling of a source name", () => {
    const cookies = response();
    const withCookies = new FetchedHeaderList(readLines(cookies), cookies);
    withCookies.delete("x-a");
    expect(withCookies.copyWithChanges()).toBeNull();
    const source = new Headers([["host", "a.example"], ["x-k", "1"]]);
    const kelvin = new FetchedHeaderList(readLines(source), source);
    kelvin.lines[1] = "b.example";
    kelvin.append("x-\u212A", "2"); // the Kelvin sign lower-cases to "x-k", a name Headers refuses
    expect(kelvin.copyWithChanges()).toBeNull();
    expect(() => kelvin.toHeaders()).toThrow(TypeError);
  });

  it("leaves out of the copy the names the transport did not read (an upstream's connection, keep-alive)", () => {
    const source = response();
    source.set("connection", "keep-alive");
    source.set("keep-alive", "timeout=65");
    const list = fetched(source);
    list.append("x-meshgate-config-version", "7");
    const copy = list.copyWithAppended();
    expect(copy).not.toBeNull();
    expect(copy!.has("connection")).toBe(false);
    expect(copy!.has("keep-alive")).toBe(false);
    same(copy!, webHeaders(list.lines));
    list.append("Connection", "close");
    same(list.toHeaders(), webHeaders(list.lines));
  });

  it("never copies without a source", () => {
    const list = new FetchedHeaderList(["content-type", "text/plain"], null);
    expect(list.copyWithAppended()).toBeNull();
    expect(list.copyWithChanges()).toBeNull();
    same(list.toHeaders(), webHeaders(list.lines));
  });

  it("delivers what rebuilding every line delivers, for generated edits", () => {
    const names = ["x-a", "X-A", "accept", "set-cookie", "cache-control", "x-b", "X-B", "cf-connecting-ip", "host", "connection", "Keep-Alive", "bad name", "\u212A"];
    const values = ["v", "w, x", "", " padded ", "bad\nvalue"];
    let seed = 11;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return (seed >>> 16) % n;
    };
    const paths = { appended: 0, changed: 0, rebuilt: 0, threw: 0 };
    for (let round = 0; round < 3000; round++) {
      const source = next(2) === 0 ? request() : response();
      if (next(2) === 0) source.set("connection", "keep-alive");
      if (next(3) === 0) source.set("keep-alive", "timeout=5");
      const list = fetched(source);
      for (let step = next(5); step > 0; step--) {
        const name = names[next(names.length)]!;
        const value = values[next(values.length)]!;
        const op = next(10);
        if (op < 5) list.append(name, value);
        else if (op < 7) list.set(name.toLowerCase(), value);
        else if (op === 7) list.delete(name.toLowerCase());
        else if (op === 8) list.deleteAll(new Set([name.toLowerCase()]));
        else list.lines.splice(2 * next(Math.max(1, list.lines.length / 2)), 2);
      }
      const want = outcome(() => webHeaders(list.lines));
      const got = outcome(() => list.toHeaders());
      if (typeof want === "string") {
        expect(got).toBe(want);
        paths.threw++;
        continue;
      }
      expect(typeof got).not.toBe("string");
      same(got as Headers, want);
      if (list.copyWithAppended() !== null) paths.appended++;
      else if (list.copyWithChanges() !== null) paths.changed++;
      else paths.rebuilt++;
    }
    // Every path is exercised.
    for (const n of Object.values(paths)) expect(n).toBeGreaterThan(100);
  });
});
