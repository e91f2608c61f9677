import { describe, expect, it } from "vitest";
import type { GatewayRequest } from "../http/exchange.js";
import { HeaderList } from "../http/header-list.js";
import type { CompiledRule, RouteEntry } from "./compiled-rule.js";
import { compileMatch } from "./compile-match.js";
import { wildcardCovers } from "./hostnames.js";
import { comparePrecedence, RouteTable } from "./route-table.js";

// A seeded generator (mulberry32) so a failure names a reproducible case.
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTS = ["a.example.com", "b.example.com", "x.a.example.com", "example.com", "other.test"];
const PATTERNS = [null, null, "a.example.com", "*.example.com", "*.a.example.com", "example.com", "other.test", "*.test"];
const SEGMENTS = ["", "api", "v1", "orders", "42", "a"];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function randomPath(r: () => number): string {
  const n = 1 + Math.floor(r() * 4);
  let p = "";
  for (let i = 0; i < n; i++) p += `/${pick(r, SEGMENTS)}`;
  return r() < 0.15 ? `${p}/` : p;
}

function randomEntries(r: () => number, n: number): RouteEntry[] {
  return Array.from({ length: n }, (_, i) => {
    const kind = r();
    const path = kind < 0.3 ? { type: "Exact" as const, value: randomPath(r) } : kind < 0.9 ? { type: "PathPrefix" as const, value: r() < 0.1 ? "/" : randomPath(r) } : { type: "RegularExpression" as const, value: "/api/v[0-9]+/.*" };
    const compiled = compileMatch({
      path,
      ...(r() < 0.2 ? { method: pick(r, ["GET", "POST"] as const) } : {}),
      ...(r() < 0.2 ? { headers: [{ name: "x-v", value: pick(r, ["1", "2"]) }] } : {}),
      ...(r() < 0.1 ? { queryParams: [{ name: "q", value: "1" }] } : {}),
    } as Parameters<typeof compileMatch>[0]);
    const rule = { id: `route-${i}` } as CompiledRule;
    return { rule, hostPattern: pick(r, PATTERNS), ...compiled, age: { created: "", key: `ns/route-${String(i).padStart(4, "0")}`, rule: 0, match: 0 } };
  });
}

function request(r: () => number): GatewayRequest {
  const lines = r() < 0.5 ? ["x-v", pick(r, ["1", "2"])] : [];
  return { method: pick(r, ["GET", "POST"]), scheme: "http", host: pick(r, HOSTS), hostPort: null, listenerPort: 80, path: randomPath(r), query: r() < 0.3 ? "?q=1" : "", headers: new HeaderList(lines), body: null, clientAddress: "127.0.0.1", startTime: 0 };
}

/** The definition: every entry in precedence order, the first whose host, path, method, headers and query match. */
function reference(entries: readonly RouteEntry[], req: GatewayRequest): RouteEntry | null {
  const query = new URLSearchParams(req.query);
  for (const e of [...entries].sort(comparePrecedence)) {
    const hostOk = e.hostPattern === null || e.hostPattern === req.host || (e.hostPattern.startsWith("*.") && wildcardCovers(e.hostPattern, req.host));
    if (!hostOk || !e.path.test(req.path)) continue;
    if (e.method !== null && e.method !== req.method) continue;
    if (!e.headers.every((m) => m.test(req.headers.getJoined(m.name)))) continue;
    if (!e.query.every((m) => m.test(query.get(m.name) ?? undefined))) continue;
    return e;
  }
  return null;
}

describe("RouteTable index", () => {
  it("chooses exactly what a precedence-ordered scan chooses, on generated route sets", () => {
    for (let seed = 1; seed <= 60; seed++) {
      const r = rng(seed);
      const entries = randomEntries(r, 1 + Math.floor(r() * 120));
      const table = new RouteTable(entries);
      for (let i = 0; i < 300; i++) {
        const req = request(r);
        const expected = reference(entries, req);
        const got = table.match(req)?.entry ?? null;
        if (got !== expected) throw new Error(`seed ${seed} request ${i} (${req.method} ${req.host}${req.path}${req.query}): got ${got?.rule.id ?? "none"}, expected ${expected?.rule.id ?? "none"}`);
      }
    }
  });

  it("built from the last table (a reload reusing compiled routes), orders and matches exactly as one built from scratch", async () => {
    for (let seed = 1; seed <= 60; seed++) {
      const r = rng(seed);
      const all = randomEntries(r, 2 + Math.floor(r() * 120));
      // The last snapshot: some of these entries, in another given order, plus some since removed.
      const removed = randomEntries(r, Math.floor(r() * 10));
      const before = [...all.filter(() => r() < 0.8), ...removed].sort(() => r() - 0.5);
      const previous = new RouteTable(before);
      // Ties (same precedence, same age) are decided by the order given: make some.
      const entries = all.map((e) => (r() < 0.2 ? { ...e, age: { ...e.age, key: "ns/tie" } } : e));
      const fresh = new RouteTable(entries);
      const rebuilt = new RouteTable(entries, undefined, previous);
      expect(rebuilt.entries, `seed ${seed}`).toEqual(fresh.entries);
      // The same table a slice at a time, other work running between the slices.
      const sliced = await RouteTable.build(entries, undefined, previous, () => new Promise((r) => setTimeout(r, 0)));
      expect(sliced.entries, `seed ${seed} sliced`).toEqual(fresh.entries);
      expect(sliced.defaultRoutes, `seed ${seed} sliced`).toEqual(fresh.defaultRoutes);
      for (let i = 0; i < 100; i++) {
        const req = request(r);
        expect(rebuilt.match(req)?.entry ?? null, `seed ${seed} request ${i}`).toBe(fresh.match(req)?.entry ?? null);
        expect(sliced.match(req)?.entry ?? null, `seed ${seed} request ${i} sliced`).toBe(fresh.match(req)?.entry ?? null);
      }
      // Entries kept from the last table in a given order that now ties differently: still the full sort's order.
      const reordered = [...all].reverse();
      expect(new RouteTable(reordered, undefined, new RouteTable(all)).entries, `seed ${seed} reordered`).toEqual(new RouteTable(reordered).entries);
    }
  });

  it("finds one prefix among 10,000 under one host, and the longest of nested ones", () => {
    const entries: RouteEntry[] = Array.from({ length: 10_000 }, (_, i) => ({ rule: { id: `p${i}` } as CompiledRule, hostPattern: "big.test", ...compileMatch({ path: { type: "PathPrefix", value: `/svc-${i}` }, headers: [], queryParams: [] }), age: { created: "", key: `ns/p${i}`, rule: 0, match: 0 } }));
    entries.push({ rule: { id: "nested" } as CompiledRule, hostPattern: "big.test", ...compileMatch({ path: { type: "PathPrefix", value: "/svc-7/inner" }, headers: [], queryParams: [] }), age: { created: "", key: "ns/nested", rule: 0, match: 0 } });
    const table = new RouteTable(entries);
    const at = (path: string) => table.match({ ...request(rng(1)), method: "GET", host: "big.test", path, query: "", headers: new HeaderList([]) })?.rule.id ?? null;
    expect(at("/svc-9999/x")).toBe("p9999");
    expect(at("/svc-7/inner/deeper")).toBe("nested");
    expect(at("/svc-7/innerx")).toBe("p7");
    expect(at("/svc-70000")).toBe(null);
  });
});
