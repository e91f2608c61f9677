import { SELF, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { KV_KEYS, KvPublishTarget } from "../../src/config/kv-publish-target.js";
import { publishSources, rollback } from "../../src/config/publish.js";
import { kvBinding, type KvBinding } from "../../src/runtime/workers/kv-store.js";

interface TestEnv {
  POLICIES: KvBinding;
  TEST_UPSTREAM_PORT: string;
}
const testEnv = env as unknown as TestEnv;
const target = new KvPublishTarget(kvBinding(testEnv.POLICIES), "kv:POLICIES");

const policies = (tag: string) => [
  { name: "backend.yaml", text: `apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: web }\nspec: { endpoints: [{ url: "http://127.0.0.1:${testEnv.TEST_UPSTREAM_PORT}" }] }\n` },
  {
    name: "route.yaml",
    text: `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: web }\nspec:\n  rules:\n    - filters: [{ type: ResponseHeaderModifier, responseHeaderModifier: { set: [{ name: x-tag, value: ${tag} }] } }]\n      backendRefs: [{ name: web }]\n`,
  },
];

async function served(): Promise<{ version: string | null; tag: string | null; status: number }> {
  const res = await SELF.fetch("http://edge.example.com/");
  await res.arrayBuffer();
  return { version: res.headers.get("x-meshgate-config-version"), tag: res.headers.get("x-tag"), status: res.status };
}

async function until(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("Workers KV config store in workerd", () => {
  it("publish → read → swap; an invalid bundle is ignored; rollback restores", async () => {
    expect((await publishSources(target, policies("one"), "test")).bundle.version).toBe(1);
    expect(await served()).toEqual({ version: "1", tag: "one", status: 200 });

    const started = Date.now();
    await publishSources(target, policies("two"), "test");
    const waited = await until(async () => (await served()).version === "2", 3_000, "swap to version 2");
    console.log(`[measure] KV reload latency in workerd (isolate TTL 100 ms): publish→serving v2 ${Date.now() - started} ms (${waited} ms after the write)`);
    expect(await served()).toEqual({ version: "2", tag: "two", status: 200 });

    await testEnv.POLICIES.put(KV_KEYS.currentV2, '{"format":"meshgate.dev/bundle-v1","version":7,"hash":"nope"}');
    await new Promise((r) => setTimeout(r, 250));
    await served(); // triggers the background refresh that refuses it
    await new Promise((r) => setTimeout(r, 50));
    expect(await served()).toEqual({ version: "2", tag: "two", status: 200 });
    const config = (await (await SELF.fetch("http://edge.example.com/__meshgate/config", { headers: { authorization: "Bearer test-admin-token" } })).json()) as { version: string; lastReloadError: { message: string } | null };
    expect(config.version).toBe("2");
    expect(config.lastReloadError?.message).toContain("bundle from kv:POLICIES refused: hash:");

    // the broken key is replaced by a real publish; rollback then restores version 1's policies
    await testEnv.POLICIES.put(KV_KEYS.currentV2, JSON.stringify(await target.get(2)));
    const back = await rollback(target, "test", 1);
    expect(back.bundle.version).toBe(3);
    await until(async () => (await served()).version === "3", 3_000, "rollback");
    expect(await served()).toEqual({ version: "3", tag: "one", status: 200 });
  });

  it("protects the admin API with the bearer token", async () => {
    const res = await SELF.fetch("http://edge.example.com/__meshgate/config");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthenticated");
  });
});
