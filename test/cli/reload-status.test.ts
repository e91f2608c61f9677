import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { startCliGateway, until, type CliGateway } from "../support/cli-gateway.js";
import { backendYaml } from "../support/gateway.js";

const BIN = join(process.cwd(), "bin", "meshgate.js");
const ROUTE = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: web }\nspec:\n  rules: [{ backendRefs: [{ name: web, port: 80 }] }]\n";

async function policyDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "meshgate-status-"));
  await writeFile(join(dir, "backend.yaml"), backendYaml("web", ["http://127.0.0.1:9"]));
  await writeFile(join(dir, "route.yaml"), ROUTE);
  return dir;
}

const lastError = async (gw: CliGateway) => ((await (await fetch(`${gw.adminUrl}/config`)).json()) as { lastReloadError: { message: string } | null }).lastReloadError;
const banner = async (gw: CliGateway) => (await (await fetch(`${gw.adminUrl}/dashboard`)).text()).includes("last reload refused");

/** Break the source, see the error in /config and the dashboard; restore it, see both clear and the recovery logged. */
async function breakAndRestore(gw: CliGateway, breakIt: () => Promise<void>, restore: () => Promise<void>, broken: RegExp): Promise<void> {
  expect(await lastError(gw)).toBeNull();
  await breakIt();
  await until(async () => (await lastError(gw)) !== null, 15_000, "the reload error shows in /config");
  expect((await lastError(gw))!.message).toMatch(broken);
  expect(await banner(gw)).toBe(true);
  // Still serving the last good config meanwhile.
  const res = await fetch(`${gw.url}/`);
  expect(res.headers.get("x-meshgate-config-version")).not.toBeNull();
  expect(((await res.json()) as { error: { code: string } }).error.code).not.toBe("no_config");
  await restore();
  await until(async () => (await lastError(gw)) === null, 15_000, "the reload error clears");
  expect(await banner(gw)).toBe(false);
  await until(async () => gw.logs().includes("configuration source is valid again; reload error cleared"), 5_000, "the recovery logged");
}

describe("reload status tells the truth after a broken source is restored (real CLI)", () => {
  it("policy directory: a broken file restored to its good content (the config did not change)", async () => {
    const dir = await policyDir();
    const gw = await startCliGateway(["--policies", dir]);
    try {
      await breakAndRestore(gw, () => writeFile(join(dir, "route.yaml"), "kind: [unclosed\n"), () => writeFile(join(dir, "route.yaml"), ROUTE), /route\.yaml:document#0: \(document\): invalid YAML/);
      expect(gw.logs()).toMatch(/"message":"invalid policies; keeping the last good configuration"/);
    } finally {
      await gw.stop();
    }
  });

  it("file store: a corrupt bundle file restored", async () => {
    const store = join(await mkdtemp(join(tmpdir(), "meshgate-status-store-")), "bundle.json");
    expect(spawnSync(process.execPath, [BIN, "publish", "--policies", await policyDir(), "--file", store], { encoding: "utf8" }).status).toBe(0);
    const good = await readFile(store, "utf8");
    const gw = await startCliGateway(["--store", `file:${store}`]);
    try {
      await breakAndRestore(gw, () => writeFile(store, "{ not json"), () => writeFile(store, good), /file:.*bundle\.json/);
    } finally {
      await gw.stop();
    }
  });

  it("Redis store: a corrupt current bundle restored", async () => {
    const prefix = `status-${randomUUID()}`;
    expect(spawnSync(process.execPath, [BIN, "publish", "--policies", await policyDir(), "--redis", "redis://127.0.0.1:6379", "--prefix", prefix], { encoding: "utf8" }).status).toBe(0);
    const redis = new Redis("redis://127.0.0.1:6379");
    const gw = await startCliGateway(["--store", "redis://127.0.0.1:6379", "--prefix", prefix]);
    try {
      const good = (await redis.get(`${prefix}:current`))!;
      const corrupt = async () => {
        await redis.set(`${prefix}:current`, "garbage");
        await redis.publish(`${prefix}:updates`, "2");
      };
      const restore = async () => {
        await redis.set(`${prefix}:current`, good);
        await redis.publish(`${prefix}:updates`, "1");
      };
      await breakAndRestore(gw, corrupt, restore, /refused/);
    } finally {
      await gw.stop();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
});
