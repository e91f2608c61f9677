import { readdirSync, readFileSync } from "node:fs";
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { ParseCache } from "../../policy/parse-cache.js";
import { compilePrepared, compileSnapshot, preparePolicies } from "../../snapshot/compile-snapshot.js";
import type { PreparedPolicies } from "../../snapshot/prepare.js";
import { WireDecoder, WireEncoder, isJsonData, wireBatches, type WirePolicies } from "./policy-wire.js";

const backend = `apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: echo }\nspec:\n  endpoints: [{ url: "http://127.0.0.1:9" }]\n`;
const route = (i: number) => `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r-${i} }\nspec:\n  hostnames: [h${i}.test]\n  rules: [{ backendRefs: [{ name: echo }] }]\n`;
const grpc = `apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: { name: g }\nspec:\n  hostnames: [grpc.test]\n  rules: [{ matches: [{ method: { service: a.B, method: C } }], backendRefs: [{ name: echo }] }]\n`;

/** Through a real structured clone, as between the worker and the serving thread. */
function post<T>(message: T): T {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(message);
  const received = receiveMessageOnPort(port2)!.message as T;
  port1.close();
  return received;
}

/** As policy-worker.ts sends a set: its new documents in batches ahead, then the set without them. */
function send(wire: WirePolicies, decoder: WireDecoder, size = 250): PreparedPolicies {
  for (const batch of wireBatches(wire.fresh, size)) decoder.receive(post(batch));
  return decoder.decode(post({ ...wire, fresh: [] }));
}

const demo = readdirSync("policies")
  .filter((f) => f.endsWith(".yaml"))
  .map((name) => ({ name, text: readFileSync(`policies/${name}`, "utf8") }));

describe("the policy wire between threads", () => {
  it("compiles on the receiving side to what an in-thread compile gives, GRPCRoutes included", async () => {
    const sources = [{ name: "b.yaml", text: backend }, { name: "r.yaml", text: [route(1), route(2), grpc].join("---\n") }];
    const cache = new ParseCache();
    const decoder = new WireDecoder();
    const received = send(new WireEncoder().encode(preparePolicies(sources, "h1", { cache })), decoder, 2);
    const remote = await compilePrepared(received, { location: "d", files: [] }, undefined, { http2Upstreams: "allow" });
    const local = await compileSnapshot(sources, { location: "d", files: [] }, undefined, { http2Upstreams: "allow" });
    const view = (s: typeof local) => s.routes.entries.map((e) => [e.rule.id, e.hostPattern, e.method, e.grpc ?? null, e.rule.backendRefs.map((r) => r.backend?.protocol ?? null)]);
    expect(view(remote)).toEqual(view(local));
    // The GRPCRoute's side data (its precedence, HTTP/2 backends) survived the clone.
    expect(remote.routes.entries.find((e) => e.rule.id.startsWith("default/g/"))).toMatchObject({ grpc: { serviceChars: 3, methodChars: 1 } });
    expect([...remote.documents]).toEqual([...local.documents]);
  });

  it("sends a document once: a reload posts only what changed, and the receiver rebuilds the rest", () => {
    const encoder = new WireEncoder();
    const decoder = new WireDecoder();
    const cache = new ParseCache();
    const text = (n: number, edited: number) => Array.from({ length: n }, (_, i) => route(i === edited ? 1000 + i : i)).join("---\n");
    const first = post(encoder.encode(preparePolicies([{ name: "b.yaml", text: backend }, { name: "r.yaml", text: text(50, -1) }], "h1", { cache })));
    expect(first.fresh).toHaveLength(51);
    decoder.decode(first);
    const second = post(encoder.encode(preparePolicies([{ name: "b.yaml", text: backend }, { name: "r.yaml", text: text(50, 7) }], "h2", { cache })));
    expect(second.fresh).toHaveLength(1);
    const rebuilt = decoder.decode(second);
    expect(rebuilt.set.routes.map((r) => (r.doc as { metadata: { name: string } }).metadata.name)).toEqual(Array.from({ length: 50 }, (_, i) => `r-${i === 7 ? 1007 : i}`));
  });

  it("a receiver that missed documents says so instead of compiling a partial set; after a reset everything is sent again", () => {
    const encoder = new WireEncoder();
    const cache = new ParseCache();
    const sources = [{ name: "b.yaml", text: backend }, { name: "r.yaml", text: route(1) }];
    encoder.encode(preparePolicies(sources, "h1", { cache }));
    const again = encoder.encode(preparePolicies(sources, "h1", { cache }));
    expect(() => new WireDecoder().decode(post(again))).toThrow(/never received/);
    encoder.reset();
    expect(encoder.encode(preparePolicies(sources, "h1", { cache })).fresh).toHaveLength(2);
  });

  it("sends validated documents as JSON text, and they arrive exactly as they were (the demo policies: every kind)", () => {
    const prepared = preparePolicies(demo, "h1", { cache: new ParseCache() });
    expect(prepared.set.issues.filter((i) => i.severity === "error")).toEqual([]);
    const wire = new WireEncoder().encode(prepared);
    expect(wire.fresh).toHaveLength(Object.values(wire.lists).flat().length);
    const batches = wireBatches(wire.fresh, 7);
    expect(batches.every((b) => typeof b === "string")).toBe(true);
    const decoded = send(wire, new WireDecoder(), 7);
    // toStrictEqual: an undefined field, a hole or a different prototype would fail it.
    for (const list of ["routes", "backends", "securityPolicies", "rateLimitPolicies"] as const) {
      expect(prepared.set[list].length).toBeGreaterThan(0);
      expect(decoded.set[list].map((l) => l.doc)).toStrictEqual(prepared.set[list].map((l) => l.doc));
    }
  });

  it("sends a batch JSON would change as a structured clone: undefined fields, NaN, holes, class instances, symbol keys", () => {
    const unsafe: unknown[] = [{ a: undefined }, { n: NaN }, { n: Infinity }, [1, , 3], { d: new Date(0) }, { m: new Map() }, Object.assign(Object.create(null) as object, { a: 1 }), { [Symbol("s")]: 1 }, JSON.parse('{"__proto__": 1}'), { f: () => 1 }, { b: 1n }];
    for (const value of unsafe) expect(isJsonData({ spec: { deep: [value] } })).toBe(false);
    expect(isJsonData({ s: "x", n: -1.5, t: true, z: null, a: [[], {}] })).toBe(true);
    const decoder = new WireDecoder();
    const batches = wireBatches([[1, { spec: { a: undefined, b: 1 } }], [2, { spec: { b: 2 } }]], 1);
    expect(batches.map((b) => typeof b)).toEqual(["object", "string"]);
    for (const b of batches) decoder.receive(post(b));
    const set = decoder.decode(post({ ...new WireEncoder().encode(preparePolicies([], "h")), lists: { ...emptyLists(), routes: [{ file: "r", index: 0, ref: 1 }, { file: "r", index: 1, ref: 2 }] } }));
    expect(set.set.routes.map((r) => r.doc)).toStrictEqual([{ spec: { a: undefined, b: 1 } }, { spec: { b: 2 } }]);
  });
});

function emptyLists(): WirePolicies["lists"] {
  return { routes: [], gateways: [], backends: [], trafficPolicies: [], securityPolicies: [], rateLimitPolicies: [], services: [], backendTrafficPolicies: [], backendTlsPolicies: [], configMaps: [] };
}
