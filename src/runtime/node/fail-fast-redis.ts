import { Redis } from "ioredis";

/**
 * A Redis client for per-request lookups (rate-limit decisions, API keys): no offline queue, so
 * while Redis is unreachable a command fails at once and the caller's fallback answers instead of
 * requests piling up behind a reconnect; it keeps reconnecting in the background.
 */
export function failFastRedis(url: string): Redis {
  const redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 1_000, retryStrategy: (n) => Math.min(50 * n, 1_000), disconnectTimeout: 300 });
  redis.on("error", () => undefined);
  void redis.connect().catch(() => undefined);
  return redis;
}
