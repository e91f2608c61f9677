/**
 * JWKS rotation against the verified-token cache, run on Node (test/node/jwks-rotation.test.ts)
 * and inside workerd (test/workers/jwks-rotation.test.ts): a key taken out of a real JWKS must stop
 * verifying the tokens it signed as soon as the gateway has refetched the set, even for tokens the
 * cache holds (it keeps them 5 min). Each runtime supplies how to call its gateway and how to
 * rewrite and watch the loopback JWKS server.
 */
import { expect } from "vitest";
import type { JWK } from "jose";

export const ROTATION_ISSUER = "https://idp.rotation.test";

/** Backend, route and SecurityPolicy for one route `/` behind a remote JWKS refreshed every 300 ms. */
export function rotationPolicies(upstreamUrl: string, jwksUri: string): Record<string, string> {
  return {
    "backend.yaml": `apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: api }\nspec: { endpoints: [{ url: "${upstreamUrl}" }] }\n`,
    "route.yaml": `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: api }\nspec:\n  rules: [{ backendRefs: [{ name: api, port: 80 }] }]\n`,
    "security.yaml": `apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: jwt }
spec:
  targetRefs: [{ kind: HTTPRoute, name: api }]
  jwt:
    providers:
      - { name: idp, issuer: ${ROTATION_ISSUER}, remoteJWKS: { uri: "${jwksUri}", cacheDuration: 300ms, minRefetchInterval: 1h } }
`,
  };
}

export interface RotationDriver {
  /** One request with this bearer token: its status and error code. */
  call(token: string): Promise<{ status: number; code: string | null }>;
  /** Replaces the key set the JWKS server publishes. */
  publish(keys: JWK[]): Promise<void>;
  /** How many times the JWKS server has been fetched. */
  fetches(): Promise<number>;
}

export interface RotationKeys {
  readonly old: JWK;
  readonly new: JWK;
  /** Tokens for ROTATION_ISSUER: one signed by the old key, one by the new. */
  readonly leaving: string;
  readonly staying: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for one more JWKS fetch than `before` (a refresh the gateway started), then lets it settle. */
async function refreshed(driver: RotationDriver, before: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while ((await driver.fetches()) <= before) {
    if (Date.now() > deadline) throw new Error("the gateway never refetched the JWKS");
    await sleep(20);
  }
  await sleep(50);
}

/** Starts with only the old key published. */
export async function keysStayAndLeave(driver: RotationDriver, keys: RotationKeys): Promise<void> {
  expect(await driver.call(keys.leaving)).toEqual({ status: 200, code: null });
  // Both keys published: the old token keeps working after a refresh (its key is still there).
  await driver.publish([keys.old, keys.new]);
  await sleep(350);
  let before = await driver.fetches();
  // Answered from the verified-token cache; the stale key set is refetched in the background.
  expect(await driver.call(keys.leaving)).toEqual({ status: 200, code: null });
  await refreshed(driver, before);
  expect(await driver.call(keys.leaving)).toEqual({ status: 200, code: null });
  expect(await driver.call(keys.staying)).toEqual({ status: 200, code: null });

  // The old key is taken out. The cached verification of `leaving` must not outlive it.
  await driver.publish([keys.new]);
  await sleep(350);
  before = await driver.fetches();
  await driver.call(keys.leaving);
  await refreshed(driver, before);
  expect(await driver.call(keys.leaving)).toEqual({ status: 401, code: "jwt_unknown_kid" });
  expect(await driver.call(keys.leaving)).toEqual({ status: 401, code: "jwt_unknown_kid" });
  expect(await driver.call(keys.staying)).toEqual({ status: 200, code: null });
}

/** A JWKS host that fails keeps the cached tokens and keys: a failed fetch is no rotation. */
export async function outageKeepsKeys(driver: RotationDriver, token: string, setDown: (down: boolean) => Promise<void>): Promise<void> {
  expect((await driver.call(token)).status).toBe(200);
  await setDown(true);
  try {
    await sleep(350);
    const before = await driver.fetches();
    await driver.call(token);
    await refreshed(driver, before);
    expect(await driver.call(token)).toEqual({ status: 200, code: null });
  } finally {
    await setDown(false);
  }
}
