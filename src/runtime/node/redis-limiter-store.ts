import type { Redis } from "ioredis";
import { failFastRedis } from "./fail-fast-redis.js";
import { remaining, type GcraParams } from "../../ratelimit/gcra.js";
import type { LimiterDecision, LimiterStore } from "../../ratelimit/limiter-store.js";

/**
 * GCRA in one Lua script: read the TAT, decide, write, on Redis's own clock (TIME), so
 * replicas with skewed clocks still share one exact bucket. Returns {allowed, fill ms, retry ms}.
 */
const GCRA_SCRIPT = `
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local nxt = tat + emission * cost
if nxt - now > tolerance + 0.000001 then
  return {0, tostring(tat - now), tostring(nxt - now - tolerance)}
end
redis.call('SET', KEYS[1], tostring(nxt), 'PX', math.ceil(nxt - now) + 1000)
return {1, tostring(nxt - now), '0'}
`;

type GcraRedis = Redis & { meshgateGcra(key: string, emission: number, tolerance: number, cost: number): Promise<[number, string, string]> };

/** Exact limits shared by every gateway on one Redis. Fails fast while Redis is unreachable. */
export class RedisLimiterStore implements LimiterStore {
  readonly name = "redis";
  private readonly redis: GcraRedis;

  constructor(
    url: string,
    private readonly prefix = "meshgate",
  ) {
    // While Redis is down a decision fails at once and the policy's failureMode answers.
    const redis = failFastRedis(url);
    redis.defineCommand("meshgateGcra", { numberOfKeys: 1, lua: GCRA_SCRIPT });
    this.redis = redis as GcraRedis;
  }

  async decide(key: string, params: GcraParams): Promise<LimiterDecision> {
    const [allowed, fill, retry] = await this.redis.meshgateGcra(`${this.prefix}:rl:${key}`, params.emissionMs, params.toleranceMs, params.cost);
    const fillMs = Number(fill);
    return { allowed: allowed === 1, remaining: remaining(fillMs, params), resetMs: fillMs, retryAfterMs: Number(retry) };
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
