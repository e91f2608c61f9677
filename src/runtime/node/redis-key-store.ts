import type { Redis } from "ioredis";
import { failFastRedis } from "./fail-fast-redis.js";
import { parseStoredKey, type ApiKeyEntry, type ApiKeyStore } from "../../identity/api-keys.js";

/** API keys one per Redis key (`<prefix>:apikey:<sha256 hex>` → JSON entry), for key sets too large for a bundle. */
export class RedisApiKeyStore implements ApiKeyStore {
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly prefix = "meshgate",
  ) {
    // While Redis is down the checker serves cached entries or answers 503; it never hangs.
    this.redis = failFastRedis(url);
  }

  async get(hash: string): Promise<ApiKeyEntry | null> {
    return parseStoredKey(await this.redis.get(`${this.prefix}:apikey:${hash}`));
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
