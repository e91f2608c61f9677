import { Redis, type RedisOptions } from "ioredis";
import { RedisReach, oneShotRedisOptions, redactRedisUrl } from "./redis-reach.js";
import { decodeBundle, summarize, type BundleSummary, type PolicyBundle } from "../../config/bundle.js";
import { HISTORY_LIMIT, type ConfigStore, type PublishTarget } from "../../config/config-store.js";

/**
 * Makes a bundle current only if it is newer than the current one, keeps the last
 * HISTORY_LIMIT versions, and announces the version on the updates channel: one atomic
 * script, so readers never see a half-written update and a slow publisher never wins.
 */
const WRITE_SCRIPT = `
local p = KEYS[1]
local v = tonumber(ARGV[1])
local cur = redis.call('GET', p .. ':current-version')
if cur and tonumber(cur) >= v then return 0 end
redis.call('SET', p .. ':current', ARGV[2])
redis.call('SET', p .. ':current-version', ARGV[1])
redis.call('SET', p .. ':bundle:' .. ARGV[1], ARGV[2])
redis.call('LPUSH', p .. ':history', ARGV[1])
local old = redis.call('LRANGE', p .. ':history', ${HISTORY_LIMIT}, -1)
for _, o in ipairs(old) do redis.call('DEL', p .. ':bundle:' .. o) end
redis.call('LTRIM', p .. ':history', 0, ${HISTORY_LIMIT - 1})
redis.call('PUBLISH', p .. ':updates', ARGV[1])
return 1
`;

export interface RedisStoreOptions {
  /** Key prefix; every key and the pub/sub channel start with it. Default "meshgate". */
  readonly prefix?: string;
  /** Re-read interval in case a notification was missed. Default 5 s. */
  readonly pollMs?: number;
  /** A CLI command (publish, rollback, history): one connection attempt, no reconnecting. */
  readonly oneShot?: boolean;
}

/** Policy bundles in Redis: read by gateways (with pub/sub for instant reload), written by publish. */
export class RedisStore implements ConfigStore, PublishTarget {
  readonly description: string;
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly subscribers = new Set<Redis>();
  private readonly reach: RedisReach;

  constructor(
    private readonly url: string,
    private readonly options: RedisStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? "meshgate";
    this.description = `${redactRedisUrl(url)} (prefix ${this.prefix})`;
    this.redis = new Redis(url, options.oneShot ? oneShotRedisOptions() : redisOptions());
    this.reach = new RedisReach(url, this.redis);
  }

  readCurrent(): Promise<string | null> {
    return this.reach.run(this.redis.get(`${this.prefix}:current`));
  }

  watch(onChange: () => void): () => void {
    const sub = new Redis(this.url, redisOptions());
    this.subscribers.add(sub);
    sub.on("error", () => undefined);
    sub.on("message", () => onChange());
    // After a reconnect we may have missed a notification: re-read.
    sub.on("ready", () => onChange());
    void sub.subscribe(`${this.prefix}:updates`).catch(() => undefined);
    const poll = setInterval(onChange, this.options.pollMs ?? 5_000);
    poll.unref();
    return () => {
      clearInterval(poll);
      this.subscribers.delete(sub);
      sub.disconnect();
    };
  }

  async nextVersion(): Promise<number> {
    return this.reach.run(this.redis.incr(`${this.prefix}:seq`));
  }

  async write(bundle: PolicyBundle): Promise<void> {
    const applied = await this.reach.run(this.redis.eval(WRITE_SCRIPT, 1, this.prefix, String(bundle.version), JSON.stringify(bundle)));
    if (applied !== 1) throw new Error(`version ${bundle.version} is not newer than the current one in ${this.description}; not published`);
  }

  async history(): Promise<BundleSummary[]> {
    const versions = await this.reach.run(this.redis.lrange(`${this.prefix}:history`, 0, HISTORY_LIMIT - 1));
    const bundles = await Promise.all(versions.map((v) => this.get(Number(v))));
    return bundles.filter((b): b is PolicyBundle => b !== null).map(summarize);
  }

  async get(version: number): Promise<PolicyBundle | null> {
    const text = await this.reach.run(this.redis.get(`${this.prefix}:bundle:${version}`));
    return text === null ? null : decodeBundle(text);
  }

  async close(): Promise<void> {
    for (const s of this.subscribers) s.disconnect();
    this.subscribers.clear();
    this.redis.disconnect();
  }
}

/** Bounded waits while Redis is down (the gateway keeps its config meanwhile); reconnect forever with backoff. */
function redisOptions(): RedisOptions {
  return {
    lazyConnect: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    retryStrategy: (times) => Math.min(100 * 2 ** times, 2_000),
    // disconnect() arms a timer this long for the socket to close; a socket that was refused never
    // reports closing again, so the timer (default 2 s) would hold a failed start's exit.
    disconnectTimeout: 300,
  };
}
