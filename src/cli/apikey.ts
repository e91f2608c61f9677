import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { RedisReach, oneShotRedisOptions, redactRedisUrl } from "../runtime/node/redis-reach.js";
import { stringify } from "yaml";
import { sha256Hex } from "../http/text-hash.js";

/**
 * `meshgate apikey create --consumer NAME`: makes a random key, prints it once, and prints the
 * `sha256:` entry to paste into a SecurityPolicy (or stores it in Redis with --redis).
 */
export const APIKEY_OPTIONS = { consumer: { type: "string" }, expires: { type: "string" }, metadata: { type: "string", multiple: true }, redis: { type: "string" }, prefix: { type: "string", default: "meshgate" } } as const;

export async function apikeyCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "create") throw new Error(`apikey: unknown subcommand "${sub ?? ""}" (try: meshgate apikey create --consumer NAME)`);
  const { values } = parseArgs({ args: rest, options: APIKEY_OPTIONS, strict: true });
  if (!values.consumer) throw new Error("apikey create needs --consumer NAME");
  if (values.expires !== undefined && Number.isNaN(Date.parse(values.expires))) throw new Error(`--expires must be an ISO date-time such as 2027-01-31T00:00:00Z, got "${values.expires}"`);
  const metadata: Record<string, string> = {};
  for (const pair of values.metadata ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new Error(`--metadata must be key=value, got "${pair}"`);
    metadata[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const key = `mgk_${randomBytes(32).toString("base64url")}`;
  const hash = await sha256Hex(key);
  const entry = { consumer: values.consumer, hash: `sha256:${hash}`, ...(Object.keys(metadata).length > 0 ? { metadata } : {}), ...(values.expires ? { expiresAt: new Date(values.expires).toISOString() } : {}) };
  if (values.redis) {
    const redis = new Redis(values.redis, oneShotRedisOptions());
    const reach = new RedisReach(values.redis, redis);
    try {
      const { hash: _, ...stored } = entry;
      await reach.run(redis.set(`${values.prefix}:apikey:${hash}`, JSON.stringify(stored)));
    } finally {
      redis.disconnect();
    }
    process.stderr.write(`stored in ${redactRedisUrl(values.redis)} as ${values.prefix}:apikey:${hash}\n`);
  }
  process.stdout.write(`# the key (shown once; give it to ${values.consumer}):\n${key}\n# the entry for spec.apiKey.keys:\n${stringify([entry])}`);
  return 0;
}
