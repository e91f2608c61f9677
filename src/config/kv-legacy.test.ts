import { describe, expect, it } from "vitest";
import { BUNDLE_FORMAT, BUNDLE_FORMAT_V1, decodeBundle } from "./bundle.js";
import { KV_KEYS, KvPublishTarget, type KvLike } from "./kv-publish-target.js";
import { publishSources, rollback } from "./publish.js";
import { parseSources, type TextSource } from "../policy/parse.js";
import { compileSnapshot } from "../snapshot/compile-snapshot.js";

/** A Map seen as the two KV operations publishing uses. */
function memoryKv(): KvLike & { readonly data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, get: async (k) => data.get(k) ?? null, put: async (k, v) => void data.set(k, v) };
}

const sources: TextSource[] = [
  { name: "backend.yaml", text: `apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: web, labels: { note: "a: b # not a comment", "yes": "no" } }\nspec: { endpoints: [{ url: "http://127.0.0.1:9" }] }\n` },
  { name: "route.yaml", text: `---\n# empty\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: web }\nspec:\n  rules:\n    - matches: [{ headers: [{ name: x-q, value: "'\\"\\\\ é 李" }] }]\n      backendRefs: [{ name: web }]\n` },
  { name: "extra.json", text: JSON.stringify([{ apiVersion: "meshgate.dev/v1alpha1", kind: "Backend", metadata: { name: "other" }, spec: { endpoints: [{ url: "http://127.0.0.1:10" }] } }]) },
];

const values = (s: Parameters<typeof parseSources>[0]) => parseSources(s).documents.map((d) => [d.file, d.value]);

describe("KV: the previous release's format beside bundle-v2 (rolling upgrades of Workers)", () => {
  it("publish writes bundle:current:v2 for this release and bundle:current, same version, as text an older gateway parses to the same documents", async () => {
    const kv = memoryKv();
    const target = new KvPublishTarget(kv, "kv:test");
    const { bundle } = await publishSources(target, sources, "test");
    const v2 = await decodeBundle(kv.data.get(KV_KEYS.currentV2)!);
    expect(v2.format).toBe(BUNDLE_FORMAT);
    expect(v2.hash).toBe(bundle.hash);

    const legacy = await decodeBundle(kv.data.get(KV_KEYS.current)!);
    expect(legacy.format).toBe(BUNDLE_FORMAT_V1);
    expect(legacy.version).toBe(bundle.version);
    // Exactly the shape a v1 reader accepts: every source {name, text}, nothing else.
    for (const s of legacy.sources) expect(Object.keys(s).sort()).toEqual(["name", "text"]);
    expect(values(legacy.sources)).toEqual(values(sources));
    // What an older gateway compiles from it is the same configuration.
    const fromLegacy = await compileSnapshot(legacy.sources, { location: "legacy", files: legacy.sources.map((s) => s.name) });
    const fromText = await compileSnapshot(sources, { location: "text", files: sources.map((s) => s.name) });
    expect(fromLegacy.routes.entries.length).toBeGreaterThan(0);
    expect(fromLegacy.routes.entries.map((e) => `${e.rule.route.name} ${e.headers.length}`)).toEqual(fromText.routes.entries.map((e) => `${e.rule.route.name} ${e.headers.length}`));
    expect([...fromLegacy.backends.keys()].sort()).toEqual([...fromText.backends.keys()].sort());
  });

  it("versions keep growing on both keys, rollback included", async () => {
    const kv = memoryKv();
    const target = new KvPublishTarget(kv, "kv:test");
    await publishSources(target, sources, "test");
    await publishSources(target, sources.slice(0, 2), "test");
    const back = await rollback(target, "test", 1);
    expect(back.bundle.version).toBe(3);
    expect((await decodeBundle(kv.data.get(KV_KEYS.currentV2)!)).version).toBe(3);
    const legacy = await decodeBundle(kv.data.get(KV_KEYS.current)!);
    expect(legacy.version).toBe(3);
    expect(values(legacy.sources)).toEqual(values(sources));
  });
});
