import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { Redis } from "ioredis";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { RedisApiKeyStore } from "../../src/runtime/node/redis-key-store.js";
import { until } from "../support/cli-gateway.js";

const BIN = join(process.cwd(), "bin", "meshgate.js");
const prefix = `meshgate-apikey-cli-${process.pid}`;
const redis = new Redis("redis://127.0.0.1:6379");

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

function create(args: string[]) {
  const out = spawnSync(process.execPath, [BIN, "apikey", "create", ...args], { encoding: "utf8" });
  const lines = out.stdout.split("\n");
  const key = lines[1]!;
  const entry = (parse(lines.slice(2).join("\n")) as Record<string, unknown>[])[0]!;
  return { status: out.status, stderr: out.stderr, key, entry };
}

describe("meshgate apikey create", () => {
  it("prints a fresh key once and the sha256 entry for spec.apiKey.keys", () => {
    const a = create(["--consumer", "acme", "--metadata", "tier=gold", "--expires", "2030-01-01T00:00:00Z"]);
    const b = create(["--consumer", "acme"]);
    expect(a.status).toBe(0);
    expect(a.key).toMatch(/^mgk_[A-Za-z0-9_-]{43}$/);
    expect(a.key).not.toBe(b.key);
    expect(a.entry).toEqual({ consumer: "acme", hash: `sha256:${createHash("sha256").update(a.key).digest("hex")}`, metadata: { tier: "gold" }, expiresAt: "2030-01-01T00:00:00.000Z" });
  });

  it("stores the entry in Redis where the gateway's key store finds it", async () => {
    const c = create(["--consumer", "stored-co", "--redis", "redis://127.0.0.1:6379", "--prefix", prefix]);
    expect(c.status).toBe(0);
    const store = new RedisApiKeyStore("redis://127.0.0.1:6379", prefix);
    try {
      const hash = createHash("sha256").update(c.key).digest("hex");
      // The store fails fast until its connection is up (no offline queue), so ask until it answers.
      await until(() => store.get(hash).then(() => true, () => false), 5_000, "key store connected");
      expect(await store.get(hash)).toEqual({ consumer: "stored-co", metadata: {}, expiresAt: null });
    } finally {
      await store.close();
    }
  });

  it("refuses bad input with a clear message", () => {
    const out = spawnSync(process.execPath, [BIN, "apikey", "create", "--consumer", "x", "--expires", "tomorrow"], { encoding: "utf8" });
    expect(out.status).not.toBe(0);
    expect(out.stderr).toContain('--expires must be an ISO date-time such as 2027-01-31T00:00:00Z, got "tomorrow"');
  });
});
