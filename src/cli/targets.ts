import { userInfo, hostname } from "node:os";
import type { ConfigStore, PublishTarget } from "../config/config-store.js";
import { FileStore } from "../runtime/node/file-store.js";
import { RedisStore } from "../runtime/node/redis-store.js";
import { wranglerKvTarget } from "../runtime/node/wrangler-kv-target.js";

export const TARGET_OPTIONS = {
  redis: { type: "string" },
  prefix: { type: "string" },
  "kv-binding": { type: "string" },
  local: { type: "boolean", default: false },
  file: { type: "string" },
  publisher: { type: "string" },
} as const;

export interface TargetFlags {
  redis?: string | undefined;
  prefix?: string | undefined;
  "kv-binding"?: string | undefined;
  local?: boolean | undefined;
  file?: string | undefined;
}

/** Exactly one of --redis, --kv-binding, --file. */
export function publishTarget(flags: TargetFlags): PublishTarget {
  const chosen = [flags.redis, flags["kv-binding"], flags.file].filter((v) => v !== undefined);
  if (chosen.length !== 1) throw new Error("choose one target: --redis URL, --kv-binding NAME [--local], or --file PATH");
  if (flags.redis !== undefined) return new RedisStore(flags.redis, { oneShot: true, ...(flags.prefix ? { prefix: flags.prefix } : {}) });
  if (flags.file !== undefined) return new FileStore(flags.file);
  return wranglerKvTarget({ binding: flags["kv-binding"]!, local: flags.local === true });
}

/** `--store` for serve: redis://…, rediss://…, or file:PATH. */
export function configStore(url: string, prefix?: string): ConfigStore {
  if (url.startsWith("redis://") || url.startsWith("rediss://")) return new RedisStore(url, prefix ? { prefix } : {});
  if (url.startsWith("file:")) return new FileStore(url.slice("file:".length));
  throw new Error(`--store must be redis://HOST:PORT, rediss://… or file:PATH (got "${url}")`);
}

export function defaultPublisher(): string {
  return `${userInfo().username}@${hostname()}`;
}
