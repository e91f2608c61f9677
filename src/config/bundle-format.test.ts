import { describe, expect, it } from "vitest";
import { BUNDLE_FORMAT, BUNDLE_FORMAT_V1, decodeBundle, makeBundle } from "./bundle.js";
import { MemoryStore } from "./memory-store.js";
import { publishSources } from "./publish.js";
import { documentSources } from "../policy/document-sources.js";
import { sourcesHash } from "../policy/source-hash.js";
import { PolicyError, formatPolicyIssue } from "../policy/issues.js";
import { compileSnapshot } from "../snapshot/compile-snapshot.js";
import type { PolicySource, TextSource } from "../policy/parse.js";

const backend = `apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: web }\nspec: { endpoints: [{ url: "http://127.0.0.1:9" }] }\n`;
// Document #0 is empty (comments only) and #1 is the route: numbering must survive the bundle.
const route = `---\n# nothing here\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: web }\nspec:\n  rules:\n    - backendRefs: [{ name: web }]\n`;
const sources: TextSource[] = [
  { name: "backend.yaml", text: backend },
  { name: "route.yaml", text: route },
];

async function compileErrors(s: readonly PolicySource[], yaml: "parse" | "refuse" = "parse"): Promise<string[]> {
  try {
    await compileSnapshot(s, { location: "test", files: s.map((x) => x.name) }, undefined, { yaml });
  } catch (err) {
    if (err instanceof PolicyError) return err.issues.filter((i) => i.severity === "error").map(formatPolicyIssue);
    throw err;
  }
  return [];
}

describe("bundles of parsed documents (meshgate.dev/bundle-v2)", () => {
  it("publish writes every file's documents, numbered as in the file, and the snapshot it validated has the bundle's hash", async () => {
    const store = new MemoryStore();
    const { bundle, snapshot } = await publishSources(store, sources, "test");
    expect(bundle.format).toBe(BUNDLE_FORMAT);
    const stored = JSON.parse((await store.readCurrent())!) as { sources: { name: string; documents?: unknown[]; text?: string }[] };
    expect(stored.sources.map((s) => [s.name, s.text === undefined, s.documents?.length])).toEqual([
      ["backend.yaml", true, 1],
      ["route.yaml", true, 2],
    ]);
    expect(stored.sources[1]!.documents![0]).toBeNull();
    expect(snapshot.hash).toBe(bundle.hash);
    const decoded = await decodeBundle((await store.readCurrent())!);
    // A reader that parses no YAML (a Worker) compiles it to the same snapshot.
    expect((await compileSnapshot(decoded.sources, { location: "memory", files: [] }, undefined, { yaml: "refuse" })).hash).toBe(bundle.hash);
  });

  it("a bad field in a bundled document is named by file, document number and field, as in the YAML file", async () => {
    const bad = [{ name: "backend.yaml", text: backend }, { name: "route.yaml", text: route.replace("backendRefs: [{ name: web }]", "backendRefs: [{ name: web, weight: -1 }]") }];
    const fromText = await compileErrors(bad);
    expect(fromText.length).toBeGreaterThan(0);
    expect(fromText[0]).toMatch(/^route\.yaml:document#1: spec\.rules\[0\]\.backendRefs\[0\]\.weight: /);
    const parsed = documentSources(bad).sources;
    expect(parsed.every((s) => "documents" in s)).toBe(true);
    expect(await compileErrors(parsed, "refuse")).toEqual(fromText);
    // Nor does a hand-made v2 bundle with that document get past a Worker's load.
    const store = new MemoryStore();
    store.setRaw(JSON.stringify(await makeBundle(bad, 1, "hand")));
    expect((await decodeBundle((await store.readCurrent())!)).sources).toEqual(parsed);
  });

  it("publish refuses a file that does not parse and still reports the other files' field errors", async () => {
    const store = new MemoryStore();
    const broken = [{ name: "backend.yaml", text: backend.replace("name: web", "name: Web_") }, { name: "route.yaml", text: "kind: [unclosed\n" }];
    const err = await publishSources(store, broken, "test").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyError);
    const lines = (err as PolicyError).issues.map(formatPolicyIssue);
    expect(lines.some((l) => l.startsWith("route.yaml:document#0: (document): invalid YAML"))).toBe(true);
    expect(lines.some((l) => l.startsWith("backend.yaml:document#0: metadata.name: "))).toBe(true);
    expect(await store.readCurrent()).toBeNull();
  });

  it("JSON lists and YAML's .inf are normalised to what JSON holds; a broken file stays text", () => {
    const out = documentSources([
      { name: "list.json", text: JSON.stringify({ kind: "List", items: [{ a: 1 }, { b: 2 }] }) },
      { name: "odd.yaml", text: "x: .inf\n" },
      { name: "broken.yaml", text: "a: [\n" },
    ]);
    expect(out.sources[0]).toEqual({ name: "list.json", documents: [{ a: 1 }, { b: 2 }] });
    expect(out.sources[1]).toEqual({ name: "odd.yaml", documents: [{ x: null }] });
    expect(out.sources[2]).toEqual({ name: "broken.yaml", text: "a: [\n" });
    expect(out.issues.map((i) => i.file)).toEqual(["broken.yaml"]);
  });
});

describe("bundles written before (meshgate.dev/bundle-v1, text sources)", () => {
  async function v1(s: readonly { name: string; text: string }[]): Promise<string> {
    return JSON.stringify({ format: BUNDLE_FORMAT_V1, version: 1, hash: await sourcesHash(s), createdAt: "2026-11-01T00:00:00.000Z", publisher: "old", sources: s });
  }

  it("Node still reads their YAML; a reader that parses no YAML refuses it naming the file and what to do", async () => {
    const bundle = await decodeBundle(await v1(sources));
    expect(bundle.format).toBe(BUNDLE_FORMAT_V1);
    expect(await compileErrors(bundle.sources)).toEqual([]);
    const refused = await compileErrors(bundle.sources, "refuse");
    expect(refused).toEqual([
      "backend.yaml:document#0: (document): YAML text, and this runtime parses no YAML (a Worker reads the parsed documents that `meshgate publish` bundles, format meshgate.dev/bundle-v2): republish with `meshgate publish`",
      "route.yaml:document#0: (document): YAML text, and this runtime parses no YAML (a Worker reads the parsed documents that `meshgate publish` bundles, format meshgate.dev/bundle-v2): republish with `meshgate publish`",
    ]);
  });

  it("their JSON sources need no YAML parser and still load everywhere", async () => {
    const json = [{ name: "all.json", text: JSON.stringify({ kind: "List", items: [{ apiVersion: "meshgate.dev/v1alpha1", kind: "Backend", metadata: { name: "web" }, spec: { endpoints: [{ url: "http://127.0.0.1:9" }] } }] }) }];
    const bundle = await decodeBundle(await v1(json));
    expect(await compileErrors(bundle.sources, "refuse")).toEqual([]);
  });

  it("a source that is neither text nor documents, or both, is refused by its field", async () => {
    const hash = "0".repeat(64);
    const base = { format: BUNDLE_FORMAT, version: 1, hash, createdAt: "x", publisher: "p" };
    await expect(decodeBundle(JSON.stringify({ ...base, sources: [{ name: "a.yaml", text: "", documents: [] }] }))).rejects.toThrow(/^invalid bundle: sources\.0: /);
    await expect(decodeBundle(JSON.stringify({ ...base, sources: [{ name: "a.yaml", documents: {} }] }))).rejects.toThrow(/^invalid bundle: sources\.0: /);
    await expect(decodeBundle(JSON.stringify({ ...base, format: "meshgate.dev/bundle-v3", sources: [{ name: "a.yaml", documents: [] }] }))).rejects.toThrow(/^invalid bundle: format: /);
  });
});
