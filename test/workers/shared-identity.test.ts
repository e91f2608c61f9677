import { SELF, env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { makeBundle } from "../../src/config/bundle.js";
import { KV_KEYS } from "../../src/runtime/workers/kv-store.js";
import { identityFixture } from "../shared/identity-table.js";
import { checkCase } from "../shared/routing-table.js";

interface TestEnv {
  POLICIES: KVNamespace;
  TEST_UPSTREAM_PORT: string;
}
const testEnv = env as unknown as TestEnv;
const fixture = await identityFixture();

beforeAll(async () => {
  const bundle = await makeBundle(fixture.sources(`http://127.0.0.1:${testEnv.TEST_UPSTREAM_PORT}`), 1, "shared-identity-test");
  await testEnv.POLICIES.put(KV_KEYS.current, JSON.stringify(bundle));
});

describe("shared identity table in workerd", () => {
  it.each(fixture.cases)("$name", async (c) => {
    const res = await SELF.fetch(c.url, { method: c.method ?? "GET", headers: c.headers ?? {}, redirect: "manual" });
    expect(await checkCase(c, res)).toEqual([]);
  });
});
