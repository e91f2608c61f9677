import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { ParseCache } from "../../policy/parse-cache.js";
import { compilePrepared, compileSnapshot, preparePolicies } from "../../snapshot/compile-snapshot.js";
import { WireDecoder, WireEncoder, type WirePolicies } from "./policy-wire.js";

const backend = `apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: echo }\nspec:\n  endpoints: [{ url: "http://127.0.0.1:9" }]\n`;
const route = (i: number) => `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r-${i} }\nspec:\n  hostnames: [h${i}.test]\n  rules: [{ backendRefs: [{ name: echo }] }]\n`;
const grpc = `apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: { name: g }\nspec:\n  hostnames: [grpc.test]\n  rules: [{ matches: [{ method: { service: a.B, method: C } }], backendRefs: [{ name: echo }] }]\n`;

/** Through a real structured clone, as between the worker and the serving thread. */
function post(wire: WirePolicies): WirePolicies {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(wire);
  const received = receiveMessageOnPort(port2)!.message as WirePolicies;
  port1.close();
  return received;
}

describe("the policy wire between threads", () => {
  it("compiles on the receiving side to what an in-thread compile gives, GRPCRoutes included", async () => {
    const sources = [{ name: "b.yaml", text: backend }, { name: "r.yaml", text: [route(1), route(2), grpc].join("---\n") }];
    const cache = new ParseCache();
    const decoder = new WireDecoder();
    const received = decoder.decode(post(new WireEncoder().encode(preparePolicies(sources, "h1", { cache }))));
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
});
