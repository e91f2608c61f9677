import { SELF, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { KvPublishTarget } from "../../src/config/kv-publish-target.js";
import { publishSources } from "../../src/config/publish.js";
import { kvBinding, type KvBinding } from "../../src/runtime/workers/kv-store.js";

interface TestEnv {
  POLICIES: KvBinding;
  TEST_UPSTREAM_PORT: string;
}
const testEnv = env as unknown as TestEnv;
const target = new KvPublishTarget(kvBinding(testEnv.POLICIES), "kv:POLICIES");

const backend = (app = "") => ({ name: "backend.yaml", text: `apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: web }\nspec:\n${app}  endpoints: [{ url: "http://127.0.0.1:${testEnv.TEST_UPSTREAM_PORT}" }]\n` });
const httpRoute = { name: "route.yaml", text: `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: web }\nspec:\n  rules: [{ backendRefs: [{ name: web }] }]\n` };
const grpcRoute = { name: "grpc.yaml", text: `apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: { name: echo }\nspec:\n  rules: [{ matches: [{ method: { service: test.Echo } }], backendRefs: [{ name: web }] }]\n` };

async function config(): Promise<{ version: string; lastReloadError: { message: string } | null }> {
  return (await (await SELF.fetch("http://edge.example.com/__meshgate/config", { headers: { authorization: "Bearer test-admin-token" } })).json()) as { version: string; lastReloadError: { message: string } | null };
}

async function settle(): Promise<void> {
  // The isolate re-reads KV after its TTL (100 ms here); a request starts the refresh.
  await new Promise((r) => setTimeout(r, 250));
  await (await SELF.fetch("http://edge.example.com/")).arrayBuffer();
  await new Promise((r) => setTimeout(r, 100));
}

describe("GRPCRoute and HTTP/2 Backends on Workers: refused by the Worker's validation, never half-working", () => {
  it("a bundle with a GRPCRoute is refused with the reason; the last good config keeps serving", async () => {
    await publishSources(target, [backend(), httpRoute], "test");
    await settle();
    const good = await config();
    expect(good.lastReloadError).toBeNull();

    // publish (which validates on any runtime) accepts it with a warning; the Worker refuses it.
    await publishSources(target, [backend(), httpRoute, grpcRoute], "test");
    await settle();
    const after = await config();
    expect(after.version).toBe(good.version);
    expect(after.lastReloadError?.message).toContain("GRPCRoute needs HTTP/2 to its backends with response trailers");
  });

  it("a Backend asking for kubernetes.io/h2c is refused too", async () => {
    await publishSources(target, [backend("  appProtocol: kubernetes.io/h2c\n"), httpRoute], "test");
    await settle();
    expect((await config()).lastReloadError?.message).toContain("appProtocol kubernetes.io/h2c (HTTP/2 to the endpoints) cannot be honoured");
  });
});
