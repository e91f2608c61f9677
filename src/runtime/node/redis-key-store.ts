import { Redis } from "ioredis";
import { parseStoredKey, type ApiKeyEntry, type ApiKeyStore } from "../../pipeline/identity/api-keys.js";

/** API keys one per Redis key (`<prefix>:apikey:<sha256 hex>` → JSON entry), for key sets too large for a bundle. */
export class RedisApiKeyStore implements ApiKeyStore {
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly prefix = "meshgate",
  ) {
    // Fail fast while Redis is down: the checker serves cached entries or answers 503, never hangs.
    this.redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 1_000 });
    this.redis.on("error", () => undefined);
    void this.redis.connect().catch(() => undefined);
  }

  async get(hash: string): Promise<ApiKeyEntry | null> {
    return parseStoredKey(await this.redis.get(`${this.prefix}:apikey:${hash}`));
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
