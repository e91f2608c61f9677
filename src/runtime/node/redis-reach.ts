import { Redis, type RedisOptions } from "ioredis";

/** Redis did not answer (refused, timed out, connection lost): what operators read instead of ioredis' internals. */
export class RedisUnreachable extends Error {
  readonly code = "redis_unreachable";
}

/** The URL as it may be shown: a password never is. */
export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, "//***@");
}

/**
 * Tracks a client's last connection error and turns every failure that is not an answer from
 * Redis into "cannot reach Redis at URL (reason)". A Redis reply error (WRONGTYPE, NOSCRIPT…)
 * is an answer and passes through unchanged.
 */
export class RedisReach {
  private lastError: NodeJS.ErrnoException | null = null;

  constructor(
    private readonly url: string,
    redis: Redis,
  ) {
    // Errors surface on each command; the client logs nothing by itself.
    redis.on("error", (err: NodeJS.ErrnoException) => (this.lastError = err));
    redis.on("ready", () => (this.lastError = null));
  }

  async run<T>(command: Promise<T>): Promise<T> {
    try {
      return await command;
    } catch (err) {
      if ((err as Error).name === "ReplyError") throw err;
      const cause = this.lastError ?? (err as NodeJS.ErrnoException);
      const reason = cause.code ?? (/timed out/i.test(cause.message) ? "timed out" : "no connection");
      throw new RedisUnreachable(`cannot reach Redis at ${redactRedisUrl(this.url)} (${reason})`, { cause: err });
    }
  }
}

/** For one CLI command: one connection attempt, bounded in time, no reconnecting. */
export function oneShotRedisOptions(): RedisOptions {
  // disconnectTimeout: ioredis otherwise holds a finished command open 2 s before the process may exit.
  return { maxRetriesPerRequest: 0, connectTimeout: 2_000, commandTimeout: 5_000, enableOfflineQueue: true, retryStrategy: () => null, disconnectTimeout: 100 };
}
