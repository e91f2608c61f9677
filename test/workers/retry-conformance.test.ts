import { SELF, env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { makeBundle } from "../../src/config/bundle.js";
import { KV_KEYS } from "../../src/runtime/workers/kv-store.js";
import { RETRY_CASES, retryPolicies, runRetryCase } from "../shared/retry-table.js";

interface TestEnv {
  POLICIES: KVNamespace;
  TEST_RETRY_UPSTREAM_PORT: string;
}
const testEnv = env as unknown as TestEnv;
const upstream = `http://127.0.0.1:${testEnv.TEST_RETRY_UPSTREAM_PORT}`;

beforeAll(async () => {
  const bundle = await makeBundle(retryPolicies(upstream), 1, "retry-conformance-test");
  await testEnv.POLICIES.put(KV_KEYS.current, JSON.stringify(bundle));
});

describe("Gateway API retry conformance in workerd", () => {
  it.each(RETRY_CASES)("$name", async (rc) => {
    expect(await runRetryCase(rc, "http://gw.test", upstream, (url) => SELF.fetch(url))).toEqual([]);
  });
});
