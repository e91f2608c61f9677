import { spawn, type ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishSources, rollback } from "../../src/config/publish.js";
import { RedisStore } from "../../src/runtime/node/redis-store.js";
import { startCliGateway, until, type CliGateway } from "../support/cli-gateway.js";
import { freePort } from "../support/free-port.js";
import { backendYaml } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

const REDIS = "redis://127.0.0.1:6379";
const prefix = `meshgate-test-${process.pid}-${Date.now()}`;
let blue: TestUpstream, green: TestUpstream;
let store: RedisStore;
const gateways: CliGateway[] = [];

const policies = (backend: string) => [
  { name: "backends.yaml", text: [backendYaml("blue", [blue.url]), backendYaml("green", [green.url])].join("---\n") },
  { name: "route.yaml", text: `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: web }\nspec:\n  rules: [{ backendRefs: [{ name: ${backend} }] }]\n` },
];

async function served(gw: CliGateway): Promise<{ version: string | null; upstream: string | null; status: number }> {
  const res = await fetch(`${gw.url}/`);
  await res.arrayBuffer();
  return { version: res.headers.get("x-meshgate-config-version"), upstream: res.headers.get("x-upstream"), status: res.status };
}

beforeAll(async () => {
  [blue, green] = (await Promise.all(["blue", "green"].map(startUpstream))) as [TestUpstream, TestUpstream];
  store = new RedisStore(REDIS, { prefix });
});

afterAll(async () => {
  // SIGTERM: drained and exited 0, Redis connections (config, limiter, key store) closed.
  expect(await Promise.all(gateways.map((g) => g.stop()))).toEqual(gateways.map(() => 0));
  const redis = new Redis(REDIS);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await store?.close();
  await Promise.all([blue, green].map((u) => u?.close()));
});

describe("Redis config store", () => {
  it("publish → two gateway processes switch within 1 s; invalid bundles are ignored; rollback restores", async () => {
    const v1 = await publishSources(store, policies("blue"), "test");
    expect(v1.bundle.version).toBe(1);
    for (let i = 0; i < 2; i++) gateways.push(await startCliGateway(["--store", REDIS, "--prefix", prefix]));
    for (const gw of gateways) expect(await served(gw)).toEqual({ version: "1", upstream: "blue", status: 200 });

    // publish → every instance serving the new version
    const started = performance.now();
    const v2 = await publishSources(store, policies("green"), "test");
    const latencies = await Promise.all(gateways.map((gw) => until(async () => (await served(gw)).version === "2", 1_000, "switch to version 2")));
    const total = performance.now() - started;
    console.log(`[measure] redis reload latency: publish→all 2 instances serving v${v2.bundle.version}: ${total.toFixed(1)} ms (per instance ${latencies.map((l) => l.toFixed(1)).join(", ")} ms)`);
    for (const gw of gateways) expect(await served(gw)).toEqual({ version: "2", upstream: "green", status: 200 });

    // a broken bundle written behind publish's back: refused, last good kept, reason reported
    const redis = new Redis(REDIS);
    await redis.set(`${prefix}:current`, JSON.stringify({ ...v2.bundle, version: 99, hash: "0".repeat(64) }));
    await redis.publish(`${prefix}:updates`, "99");
    redis.disconnect();
    await until(async () => {
      const c = (await (await fetch(`${gateways[0]!.adminUrl}/config`)).json()) as { lastReloadError: { message: string } | null };
      return c.lastReloadError?.message.includes("hash mismatch") === true;
    }, 3_000, "refusal reported");
    for (const gw of gateways) expect(await served(gw)).toEqual({ version: "2", upstream: "green", status: 200 });
    expect(gateways[0]!.logs()).toContain("policy bundle refused");

    // rollback re-publishes version 1's policies as version 3
    const back = await rollback(store, "test");
    expect(back.bundle.version).toBe(3);
    for (const gw of gateways) await until(async () => (await served(gw)).version === "3", 2_000, "rollback");
    for (const gw of gateways) expect(await served(gw)).toEqual({ version: "3", upstream: "blue", status: 200 });
    expect((await store.history()).map((h) => h.version)).toEqual([3, 2, 1]);
  });

  it("refuses to publish an invalid policy set and writes nothing", async () => {
    const before = await store.history();
    await expect(publishSources(store, [{ name: "bad.yaml", text: "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: x }\nspec: { hostnames: [1.2.3.4] }\n" }], "test")).rejects.toThrow(/bad.yaml:document#0: spec.hostnames\[0\]/);
    expect(await store.history()).toEqual(before);
  });

  it("keeps serving the last good config while Redis is down, and follows publishes after it returns", async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const startRedis = () => spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    let server: ChildProcess = startRedis();
    const own = new RedisStore(url, { prefix: "outage" });
    try {
      await until(async () => (await own.readCurrent().then(() => true, () => false)), 5_000, "private redis up");
      await publishSources(own, policies("blue"), "test");
      const gw = await startCliGateway(["--store", url, "--prefix", "outage"]);
      gateways.push(gw);
      expect(await served(gw)).toEqual({ version: "1", upstream: "blue", status: 200 });

      server.kill("SIGKILL");
      await new Promise((r) => server.once("exit", r));
      const during: number[] = [];
      const end = Date.now() + 1_500;
      while (Date.now() < end) {
        const t = performance.now();
        expect(await served(gw)).toEqual({ version: "1", upstream: "blue", status: 200 });
        during.push(performance.now() - t);
      }
      during.sort((a, b) => a - b);
      expect(during[Math.floor(during.length / 2)]!).toBeLessThan(50);

      server = startRedis();
      await until(async () => (await own.readCurrent().then(() => true, () => false)), 5_000, "private redis back");
      // A restarted Redis without persistence is empty: the gateway keeps version 1. The next publish
      // is version 1 again with other content: refused (no silent step back), until it is forced.
      expect(await served(gw)).toEqual({ version: "1", upstream: "blue", status: 200 });
      expect((await publishSources(own, policies("green"), "test")).bundle.version).toBe(1);
      const lastError = async () => ((await (await fetch(`${gw.adminUrl}/config`)).json()) as { lastReloadError: { message: string } | null }).lastReloadError?.message ?? "";
      await until(async () => /version 1 from .* is a different bundle under version 1, the one in force/.test(await lastError()), 7_000, "the reset store's version 1 refused");
      expect(await served(gw)).toEqual({ version: "1", upstream: "blue", status: 200 });
      await publishSources(own, policies("green"), "test", { force: true });
      await until(async () => (await served(gw)).upstream === "green", 7_000, "reload after Redis returned");
    } finally {
      await own.close();
      server.kill("SIGKILL");
    }
  });
});
