import { spawnSync } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCliGateway, until, type CliGateway } from "../support/cli-gateway.js";
import { backendYaml } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

// The real CLI against the real Redis (unique prefix) and against a port where nothing listens.

const REDIS = "redis://127.0.0.1:6379";
const DEAD = "redis://127.0.0.1:1";
const prefix = `meshgate-versions-${process.pid}-${Date.now()}`;
const BIN = join(process.cwd(), "bin", "meshgate.js");
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 20_000 });
let blue: TestUpstream, green: TestUpstream;
let dir: string;
let gw: CliGateway | null = null;

const routeTo = (backend: string) => `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: web }\nspec:\n  rules: [{ backendRefs: [{ name: ${backend} }] }]\n`;

beforeAll(async () => {
  [blue, green] = (await Promise.all(["blue", "green"].map(startUpstream))) as [TestUpstream, TestUpstream];
  dir = await mkdtemp(join(tmpdir(), "mg-versions-"));
  await writeFile(join(dir, "b.yaml"), [backendYaml("blue", [blue.url]), backendYaml("green", [green.url])].join("---\n"));
  await writeFile(join(dir, "r.yaml"), routeTo("blue"));
});

afterAll(async () => {
  if (gw) expect(await gw.stop()).toBe(0);
  await wipe();
  await Promise.all([blue, green].map((u) => u?.close()));
});

async function wipe(): Promise<void> {
  const redis = new Redis(REDIS);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}

const publish = (...extra: string[]) => run("publish", "--policies", dir, "--redis", REDIS, "--prefix", prefix, ...extra);

describe("CLI Redis commands when Redis is down", () => {
  it.each([
    ["publish", ["publish", "--policies", "policies", "--redis", DEAD]],
    ["rollback", ["rollback", "--redis", DEAD]],
    ["history", ["history", "--redis", DEAD]],
    ["apikey create", ["apikey", "create", "--consumer", "acme", "--redis", DEAD]],
    ["a password in the URL is not shown", ["history", "--redis", "redis://user:s3cret@127.0.0.1:1"]],
  ])("%s: one line, cannot reach Redis at URL, exit 1", (name, args) => {
    const out = run(...args);
    expect(out.status).toBe(1);
    const host = name.startsWith("a password") ? "redis://***@127.0.0.1:1" : DEAD;
    expect(out.stderr).toBe(`meshgate: cannot reach Redis at ${host} (ECONNREFUSED)\n`);
    expect(out.stdout).toBe("");
  });
});

describe("versions never go back silently", () => {
  it("a gateway on version N refuses a lower version after Redis lost its data, until publish --force", async () => {
    expect(publish().status).toBe(0);
    await writeFile(join(dir, "r.yaml"), routeTo("blue").replace("name: web", "name: web2"));
    expect(publish().stdout).toMatch(/^published version 2 /);
    gw = await startCliGateway(["--store", REDIS, "--prefix", prefix]);
    const served = async () => {
      const res = await fetch(`${gw!.url}/`);
      await res.arrayBuffer();
      return { version: res.headers.get("x-meshgate-config-version"), upstream: res.headers.get("x-upstream") };
    };
    const config = async () => (await (await fetch(`${gw!.adminUrl}/config`)).json()) as { version: string; lastReloadError: { message: string; refused: boolean } | null };
    expect(await served()).toEqual({ version: "2", upstream: "blue" });

    // Redis loses everything; the next publish starts again at version 1.
    await wipe();
    await writeFile(join(dir, "r.yaml"), routeTo("green"));
    expect(publish().stdout).toMatch(/^published version 1 /);
    await until(async () => (await config()).lastReloadError?.refused === true, 10_000, "the lower version refused");
    const refused = await config();
    expect(refused.version).toBe("2");
    expect(refused.lastReloadError!.message).toMatch(/^version 1 from redis:\/\/127\.0\.0\.1:6379 \(prefix [^)]+\) is older than version 2, the one in force \(did the store lose its data\?\); refused, keeping version 2\. To make it current on purpose: meshgate publish --force$/);
    expect(await served()).toEqual({ version: "2", upstream: "blue" });
    expect(gw.logs()).toMatch(/"message":"policy bundle refused; keeping the last good configuration".*is older than version 2/);
    expect(await (await fetch(`${gw.adminUrl}/metrics`)).text()).toMatch(/meshgate_config_reloads_total\{result="refused"\} [1-9]/);

    // Version 2 again, other content: still not silently.
    expect(publish().stdout).toMatch(/^published version 2 /);
    await until(async () => /is a different bundle under version 2/.test((await config()).lastReloadError?.message ?? ""), 10_000, "the same-number bundle refused");
    expect(await served()).toEqual({ version: "2", upstream: "blue" });

    // The operator says so: applied at once.
    const forced = publish("--force");
    expect(forced.status).toBe(0);
    expect(forced.stdout).toMatch(/^published version 3 /);
    await until(async () => (await served()).upstream === "green", 10_000, "the forced bundle applied");
    expect(await config()).toMatchObject({ version: "3", lastReloadError: null });
    // And ordinary publishes go on from there.
    await writeFile(join(dir, "r.yaml"), routeTo("blue"));
    expect(publish().stdout).toMatch(/^published version 4 /);
    await until(async () => (await served()).version === "4", 10_000, "version 4 applied");
  });
});
