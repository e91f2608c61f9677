import { SELF, env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { makeBundle } from "../../src/config/bundle.js";
import { KV_KEYS } from "../../src/runtime/workers/kv-store.js";
import { EVENTS_ROUTE, cadence, lockstep, streamingUpload } from "../shared/streaming-cases.js";

interface TestEnv {
  POLICIES: KVNamespace;
  TEST_STREAM_UPSTREAM_PORT: string;
}
const testEnv = env as unknown as TestEnv;
const upstream = `http://127.0.0.1:${testEnv.TEST_STREAM_UPSTREAM_PORT}`;
const send = (url: string, init?: RequestInit) => SELF.fetch(url, init);

beforeAll(async () => {
  const text = `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: events }
spec: { endpoints: [{ url: "${upstream}" }] }
---
${EVENTS_ROUTE}`;
  await testEnv.POLICIES.put(KV_KEYS.current, JSON.stringify(await makeBundle([{ name: "s.yaml", text }], 1, "streaming-test")));
});

describe("server-sent events and streaming bodies through the Worker", () => {
  it("delivers each event before the upstream sends the next (no buffering)", async () => {
    expect(await lockstep("http://gw.test", upstream, send)).toEqual([0, 1, 2, 3, 4]);
  });

  it("the first of ten events 100 ms apart arrives long before the stream ends", async () => {
    const r = await cadence("http://gw.test", send);
    expect(r.events).toBe(10);
    expect(r.firstAfterMs).toBeLessThan(r.streamMs - 500);
  });

  it("timeouts.request bounds the time to response headers, not the stream", async () => {
    const r = await cadence("http://gw.test", send, "/bounded");
    expect(r.events).toBe(10);
    expect(r.streamMs).toBeGreaterThan(300);
  });

  it("streams a request body: the upstream reads its first part while the client is still sending", async () => {
    expect(await streamingUpload("http://gw.test", upstream, send)).toEqual({ status: 200, total: String(128 * 1024), sawFirstPartEarly: true });
  });
});
