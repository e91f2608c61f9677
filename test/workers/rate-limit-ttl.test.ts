import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { gcraParams } from "../../src/ratelimit/gcra.js";
import { DurableObjectLimiterStore, type RateLimiterNamespace } from "../../src/runtime/workers/rate-limiter-object.js";

// Issue 14 item 15 on Durable Objects: a bucket's storage lives as long as its state matters.
const ns = (env as unknown as { RATE_LIMITER: RateLimiterNamespace & DurableObjectNamespace }).RATE_LIMITER;
const stub = (key: string) => ns.get(ns.idFromName(key)) as unknown as DurableObjectStub;
const stored = (key: string) => runInDurableObject(stub(key), async (_, state) => ({ tat: await state.storage.get<number>("tat"), alarm: await state.storage.getAlarm() }));

describe("Durable Object bucket lifetime", () => {
  const store = new DurableObjectLimiterStore(ns);

  it("keeps a live bucket through its alarm and moves the alarm to the new TAT", async () => {
    const params = gcraParams(2, 60_000, 2, 1);
    const key = `live-${crypto.randomUUID()}`;
    await store.decide(key, params);
    await store.decide(key, params);
    expect((await store.decide(key, params)).allowed).toBe(false);
    const before = await stored(key);
    expect(before.tat).toBeGreaterThan(Date.now() + 50_000);
    expect(before.alarm).not.toBeNull();
    // Fire the alarm early: the bucket is still spent, so nothing is deleted and the alarm moves on.
    expect(await runDurableObjectAlarm(stub(key))).toBe(true);
    const after = await stored(key);
    expect(after.tat).toBe(before.tat);
    expect(after.alarm).toBe(before.tat);
    expect((await store.decide(key, params)).allowed).toBe(false);
  });

  it("deletes an idle bucket's storage at its alarm", async () => {
    // Full again 3 s after a request: long enough that workerd's own alarm cannot fire (and delete
    // the bucket) before we read the stored state on a loaded machine.
    const params = gcraParams(1, 3_000, 1, 1);
    const key = `idle-${crypto.randomUUID()}`;
    await store.decide(key, params);
    const { tat, alarm } = await stored(key);
    expect(tat).toBeGreaterThan(Date.now());
    expect(alarm).toBe(tat);
    await new Promise((r) => setTimeout(r, tat! - Date.now() + 50));
    // Whichever runs first, workerd's alarm or this one, the idle bucket's storage is gone.
    await runDurableObjectAlarm(stub(key));
    expect(await stored(key)).toEqual({ tat: undefined, alarm: null });
    // The bucket starts afresh, as a full bucket would.
    expect((await store.decide(key, params)).allowed).toBe(true);
  });
});
