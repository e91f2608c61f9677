import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { JwksRegistry, type JwksFetcher } from "./jwks-registry.js";

const spec = (over: Partial<{ cacheDuration: number; minRefetchInterval: number; timeout: number }> = {}) => ({ uri: "https://idp.test/jwks", timeout: 1_000, cacheDuration: 60_000, minRefetchInterval: 10_000, ...over });

async function keySet() {
  const { publicKey } = await generateKeyPair("ES256", { extractable: true });
  return { keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }] };
}

describe("JwksRegistry", () => {
  it("hands background fetches to the runtime once, and forgets them when settled", async () => {
    const doc = await keySet();
    const registry = new JwksRegistry(async () => doc);
    registry.source(spec()).prefetch();
    const pending = registry.takeBackground();
    expect(pending).toHaveLength(1);
    expect(registry.takeBackground()).toHaveLength(0);
    await Promise.all(pending);
    expect(registry.status()[0]).toMatchObject({ keys: 1, lastError: null });
  });

  it("keeps the last good keys when a refresh fails, and says why", async () => {
    let now = 0;
    let up = true;
    const doc = await keySet();
    const fetcher: JwksFetcher = async () => {
      if (!up) throw new Error("JWKS https://idp.test/jwks answered 503");
      return doc;
    };
    const registry = new JwksRegistry(fetcher, () => now);
    const source = registry.source(spec({ cacheDuration: 1_000 }));
    expect(await source.current()).not.toBeNull();
    up = false;
    now = 5_000; // stale: current() answers at once with the old keys and refreshes behind
    expect(await source.current()).not.toBeNull();
    await Promise.all(registry.takeBackground());
    expect(registry.status()[0]).toMatchObject({ keys: 1, lastError: "JWKS https://idp.test/jwks answered 503" });
    expect(await source.current()).not.toBeNull();
  });

  it("refetches for an unknown kid no more often than minRefetchInterval", async () => {
    let now = 0;
    let fetches = 0;
    const doc = await keySet();
    const registry = new JwksRegistry(async () => (fetches++, doc), () => now);
    const source = registry.source(spec({ minRefetchInterval: 10_000 }));
    await source.current();
    expect(await source.refetchForUnknownKid()).toBeNull();
    now = 10_001;
    expect(await source.refetchForUnknownKid()).not.toBeNull();
    expect(await source.refetchForUnknownKid()).toBeNull();
    expect(fetches).toBe(2);
  });

  it("combines the settings of providers sharing a URL to the most careful, per snapshot", () => {
    const registry = new JwksRegistry(async () => ({ keys: [] }));
    registry.newEpoch();
    registry.source(spec({ cacheDuration: 60_000, minRefetchInterval: 5_000 }));
    const shared = registry.source(spec({ cacheDuration: 10_000, minRefetchInterval: 30_000 }));
    expect([shared.spec.cacheDuration, shared.spec.minRefetchInterval]).toEqual([10_000, 30_000]);
    registry.newEpoch();
    registry.source(spec({ cacheDuration: 60_000, minRefetchInterval: 5_000 }));
    expect([shared.spec.cacheDuration, shared.spec.minRefetchInterval]).toEqual([60_000, 5_000]);
  });
});
