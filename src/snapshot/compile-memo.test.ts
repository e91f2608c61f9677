import { describe, expect, it } from "vitest";
import { ParseCache } from "../policy/parse-cache.js";
import { CompileMemo } from "./compile-memo.js";
import { compilePrepared, preparePolicies } from "./compile-snapshot.js";
import type { Snapshot } from "./snapshot.js";

const doc = (kind: string, body: string, api = "meshgate.dev/v1alpha1") => `apiVersion: ${api}\nkind: ${kind}\n${body}`;
const route = (name: string, spec: string) => doc("HTTPRoute", `metadata: { name: ${name} }\nspec:\n${spec}`, "gateway.networking.k8s.io/v1");

const base: Record<string, string[]> = {
  "backends.yaml": [
    doc("Backend", "metadata: { name: echo }\nspec: { endpoints: [{ url: 'http://127.0.0.1:1' }] }\n"),
    doc("Backend", "metadata: { name: multi }\nspec: { endpoints: [{ url: 'http://127.0.0.1:2' }], ports: [{ port: 80, targetPort: 8080 }, { port: 81, targetPort: 8081 }] }\n"),
  ],
  "policies.yaml": [
    doc("TrafficPolicy", "metadata: { name: retry-a }\nspec: { targetRefs: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, name: a }], retry: { attempts: 3 } }\n"),
    doc("TrafficPolicy", "metadata: { name: later }\nspec: { targetRefs: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, name: added }], retry: { attempts: 2 } }\n"),
    doc("RateLimitPolicy", "metadata: { name: lim }\nspec: { targetRefs: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, name: b }], rules: [{ name: r, key: clientAddress, limit: { requests: 5, period: 1s } }] }\n"),
    doc("TrafficPolicy", "metadata: { name: svc }\nspec: { targetRefs: [{ kind: Service, name: echo }], fault: { abort: { status: 503 }, header: x-chaos } }\n"),
  ],
  "routes.yaml": [
    route("a", "  hostnames: [a.test]\n  rules: [{ matches: [{ path: { type: PathPrefix, value: /a } }], backendRefs: [{ name: echo }] }]\n"),
    route("b", "  hostnames: [b.test, '*.b.test']\n  rules: [{ backendRefs: [{ name: multi, port: 81 }] }]\n"),
    route("c", "  rules: [{ matches: [{ path: { type: Exact, value: /c } }], backendRefs: [{ name: missing }] }]\n"),
    route("m", "  parentRefs: [{ group: '', kind: Service, name: echo }]\n  rules: [{ backendRefs: [{ name: echo }] }]\n"),
  ],
};

type Files = Record<string, string[]>;
const sources = (files: Files) => Object.entries(files).map(([name, docs]) => ({ name, text: docs.join("---\n") }));

/** Everything a snapshot routes by, without functions: what a compile from scratch must equal. */
function described(s: Snapshot): unknown {
  const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v instanceof Set ? [...v] : v instanceof Map ? [...v] : typeof v === "function" ? undefined : v)));
  return {
    entries: s.routes.entries.map((e) => ({ host: e.hostPattern, path: e.path.type, method: e.method, mesh: e.mesh ?? null, age: e.age, rule: plain(e.rule) })),
    defaults: s.routes.defaultRoutes.map((e) => plain(e.rule)),
    backends: plain([...s.backends]),
    warnings: s.warnings,
  };
}

describe("compilePrepared with a CompileMemo (reloads reuse unchanged routes)", () => {
  it("builds, after each kind of change, exactly what a compile from scratch builds, reusing only unchanged routes", async () => {
    const cache = new ParseCache();
    const memo = new CompileMemo();
    const compile = async (files: Files, withMemo: boolean) => {
      const prepared = preparePolicies(sources(files), "h", withMemo ? { cache } : {});
      return compilePrepared(prepared, { location: "t", files: Object.keys(files) }, undefined, {}, undefined, withMemo ? memo : undefined);
    };
    // Each step edits the files of the one before; `reused` counts the routes compiled last time and not this time.
    const edit = (files: Files, name: string, change: (docs: string[]) => string[]): Files => ({ ...files, [name]: change([...files[name]!]) });
    const steps: [string, (f: Files) => Files, number][] = [
      ["first load", (f) => f, 0],
      ["one route edited", (f) => edit(f, "routes.yaml", (d) => d.map((r, i) => (i === 0 ? r.replace("/a }", "/a2 }") : r))), 3],
      ["a route added that a policy was waiting for", (f) => edit(f, "routes.yaml", (d) => [...d, route("added", "  hostnames: [added.test]\n  rules: [{ backendRefs: [{ name: echo }] }]\n")]), 4],
      ["a Backend changed: the routes to it compile again", (f) => edit(f, "backends.yaml", (d) => [d[0]!.replace(":1'", ":9'"), d[1]!]), 2],
      ["a policy changed: the route it targets compiles again", (f) => edit(f, "policies.yaml", (d) => d.map((p, i) => (i === 2 ? p.replace("requests: 5", "requests: 6") : p))), 4],
      ["two documents swapped places in their file", (f) => edit(f, "routes.yaml", (d) => [d[1]!, d[0]!, ...d.slice(2)]), 3],
      ["nothing changed", (f) => f, 5],
    ];
    let files = base;
    for (const [what, change, reused] of steps) {
      files = change(files);
      const incremental = await compile(files, true);
      expect(described(incremental), what).toEqual(described(await compile(files, false)));
      expect(memo.routes.lastReused, what).toBe(reused);
      // Reused rules point at this snapshot's Backends, not the last one's.
      for (const e of incremental.routes.entries) for (const ref of e.rule.backendRefs) if (ref.key === "default/echo") expect(ref.backend, what).toBe(incremental.backends.get("default/echo"));
    }
  });
});
