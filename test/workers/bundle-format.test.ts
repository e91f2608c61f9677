import { SELF, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { KV_KEYS, KvPublishTarget } from "../../src/config/kv-publish-target.js";
import { publishSources } from "../../src/config/publish.js";
import { BUNDLE_FORMAT, BUNDLE_FORMAT_V1, makeBundle } from "../../src/config/bundle.js";
import { sourcesHash } from "../../src/policy/source-hash.js";
import { kvBinding, type KvBinding } from "../../src/runtime/workers/kv-store.js";

const testEnv = env as unknown as { POLICIES: KvBinding; TEST_UPSTREAM_PORT: string };
const target = new KvPublishTarget(kvBinding(testEnv.POLICIES), "kv:POLICIES");

const backend = () => `apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: web }\nspec: { endpoints: [{ url: "http://127.0.0.1:${testEnv.TEST_UPSTREAM_PORT}" }] }\n`;
const route = (tag: string, weight = 1) =>
  `---\n# an empty document first: errors must still say document#1\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: web }\nspec:\n  rules:\n    - filters: [{ type: ResponseHeaderModifier, responseHeaderModifier: { set: [{ name: x-tag, value: ${tag} }] } }]\n      backendRefs: [{ name: web, weight: ${weight} }]\n`;

async function served(): Promise<{ version: string | null; tag: string | null }> {
  const res = await SELF.fetch("http://edge.example.com/");
  await res.arrayBuffer();
  return { version: res.headers.get("x-meshgate-config-version"), tag: res.headers.get("x-tag") };
}

async function lastReloadError(): Promise<string | null> {
  const res = await SELF.fetch("http://edge.example.com/__meshgate/config", { headers: { authorization: "Bearer test-admin-token" } });
  return ((await res.json()) as { lastReloadError: { message: string } | null }).lastReloadError?.message ?? null;
}

/** Puts `text` as the current bundle (the key this Worker reads) and waits for the isolate (TTL 100 ms) to have read it. */
async function plant(text: string, key: string = KV_KEYS.currentV2): Promise<void> {
  await testEnv.POLICIES.put(key, text);
  await new Promise((r) => setTimeout(r, 250));
  await served(); // starts the background refresh
  await new Promise((r) => setTimeout(r, 100));
}

const v1 = async (version: number, sources: { name: string; text: string }[]) =>
  JSON.stringify({ format: BUNDLE_FORMAT_V1, version, hash: await sourcesHash(sources), createdAt: "2026-11-01T00:00:00.000Z", publisher: "meshgate 0.1 (text bundles)", sources });

describe("the Worker reads parsed documents and no YAML (meshgate.dev/bundle-v2)", () => {
  it("serves what publish wrote; refuses an older bundle's YAML, and a bad field, by file, document and field; keeps the last good config", async () => {
    const published = await publishSources(target, [{ name: "backend.yaml", text: backend() }, { name: "route.yaml", text: route("one") }], "test");
    expect(published.bundle.format).toBe(BUNDLE_FORMAT);
    expect(published.bundle.sources.every((s) => "documents" in s)).toBe(true);
    expect(await served()).toEqual({ version: "1", tag: "one" });

    // A bundle from before: YAML text the Worker cannot parse. Refused by name, version 1 keeps serving.
    await plant(await v1(2, [{ name: "backend.yaml", text: backend() }, { name: "route.yaml", text: route("two") }]));
    expect(await served()).toEqual({ version: "1", tag: "one" });
    const yamlRefusal = await lastReloadError();
    expect(yamlRefusal).toContain("backend.yaml:document#0: (document): YAML text, and this runtime parses no YAML");
    expect(yamlRefusal).toContain("republish with `meshgate publish`");

    // The same older format with JSON sources needs no parser: served.
    const asJson = (tag: string) => [
      { name: "backend.json", text: JSON.stringify({ apiVersion: "meshgate.dev/v1alpha1", kind: "Backend", metadata: { name: "web" }, spec: { endpoints: [{ url: `http://127.0.0.1:${testEnv.TEST_UPSTREAM_PORT}` }] } }) },
      { name: "route.json", text: JSON.stringify({ apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: { name: "web" }, spec: { rules: [{ filters: [{ type: "ResponseHeaderModifier", responseHeaderModifier: { set: [{ name: "x-tag", value: tag }] } }], backendRefs: [{ name: "web" }] }] } }) },
    ];
    await plant(await v1(3, asJson("json")));
    expect(await served()).toEqual({ version: "3", tag: "json" });
    expect(await lastReloadError()).toBeNull();

    // A hand-made bundle of documents with an invalid field: the Worker's own check names it.
    await plant(JSON.stringify(await makeBundle([{ name: "backend.yaml", text: backend() }, { name: "route.yaml", text: route("bad", -1) }], 4, "hand")));
    expect(await served()).toEqual({ version: "3", tag: "json" });
    expect(await lastReloadError()).toMatch(/route\.yaml:document#1: spec\.rules\[0\]\.backendRefs\[0\]\.weight: Too small: expected number to be >=0/);
  });
});

describe("rolling upgrades: the previous release's Workers read bundle:current", () => {
  it("publish keeps bundle:current in the older format; this Worker reads bundle:current:v2, or bundle:current where nothing else was published", async () => {
    const kv = env as unknown as { POLICIES: KVNamespace };
    const { bundle } = await publishSources(target, [{ name: "backend.yaml", text: backend() }, { name: "route.yaml", text: route("v2-key") }], "test");
    const legacy = JSON.parse((await kv.POLICIES.get(KV_KEYS.current))!) as { format: string; version: number; sources: { name: string; text?: string }[] };
    expect(legacy).toMatchObject({ format: BUNDLE_FORMAT_V1, version: bundle.version });
    expect(legacy.sources.every((s) => typeof s.text === "string")).toBe(true);
    await new Promise((r) => setTimeout(r, 250));
    await served();
    await new Promise((r) => setTimeout(r, 100));
    expect(await served()).toEqual({ version: String(bundle.version), tag: "v2-key" });

    // A namespace an older release published to has only bundle:current: read from there.
    await kv.POLICIES.delete(KV_KEYS.currentV2);
    await plant(JSON.stringify(await makeBundle([{ name: "backend.yaml", text: backend() }, { name: "route.yaml", text: route("current-key") }], bundle.version + 1, "older")), KV_KEYS.current);
    expect(await served()).toEqual({ version: String(bundle.version + 1), tag: "current-key" });
  });
});
