import * as z from "../policy/zod.js";
import { headerNameSchema } from "../policy/common.js";
import { durationAtMost, durationSchema } from "../policy/duration.js";
import { metadataSchema } from "../policy/meta.js";
import { requestConditionFields, ruleNameSchema } from "../identity/security-policy.js";
import { targetRefSchema } from "../policy/target-ref.js";
import { strictObject } from "../policy/strict-object.js";

const limitSchema = z.pipe(strictObject({
    requests: z.number().check(z.int(), z.gte(1), z.lte(1_000_000_000)),
    period: durationSchema.check(z.refine((ms) => ms >= 1, { message: "period must be at least 1ms" })),
    /** How many requests may arrive at once (bucket size). Default: `requests`. 1 = evenly spaced. */
    burst: z.optional(z.number().check(z.int(), z.gte(1), z.lte(1_000_000_000))),
  }), z.transform((l) => ({ ...l, burst: l.burst ?? l.requests })));

const rateLimitRuleSchema = strictObject({
    name: ruleNameSchema,
    /** Which requests this rule counts; empty = all. Rules are tried in order; the first that matches applies. */
    match: z._default(strictObject(requestConditionFields), {}),
    /**
     * One bucket per: principal id, API-key consumer, client address, value of `keyHeader`, or one
     * shared bucket. A request without that value (no principal, no header) skips the rule.
     */
    key: z.enum(["principal", "consumer", "clientAddress", "header", "shared"]),
    keyHeader: z.optional(z.pipe(headerNameSchema, z.transform((h) => h.toLowerCase()))),
    /** key: clientAddress: IPv6 clients share a bucket per prefix of this length, so rotating addresses in a /64 buys nothing. */
    ipv6Prefix: z._default(z.number().check(z.int(), z.gte(1), z.lte(128)), 64),
    limit: limitSchema,
    /** Units each request takes from the bucket. */
    cost: z._default(z.number().check(z.int(), z.gte(1), z.lte(1_000_000)), 1),
  }).check(
    z.refine((r) => (r.key === "header") === (r.keyHeader !== undefined), { message: "keyHeader is required with key: header (and only then)", path: ["keyHeader"] }),
    // Only when the rule is an object and its limit and cost are themselves valid: a bad period must not also read as a bad cost.
    z.refine((r) => r.cost <= r.limit.burst, { message: "cost is larger than the burst: no request could ever pass", path: ["cost"], when: (payload) => !payload.issues.some((i) => !i.path?.length || i.path[0] === "limit" || i.path[0] === "cost") }),
  );

/** meshgate.dev/v1alpha1 RateLimitPolicy: request limits for the routes it targets. */
export const rateLimitPolicySchema = strictObject({
  apiVersion: z.literal("meshgate.dev/v1alpha1"),
  kind: z.literal("RateLimitPolicy"),
  metadata: metadataSchema,
  spec: strictObject({
      targetRefs: z.array(targetRefSchema).check(z.minLength(1, { message: "a RateLimitPolicy needs at least one targetRef" }), z.maxLength(16)),
      /**
       * local: per gateway instance (per isolate on Workers). global: exact across instances — Redis on
       * Node (`serve --ratelimit-store`), Durable Objects on Workers (binding RATE_LIMITER).
       * workers-binding: the Workers rate-limiting binding named in `binding` (approximate, cheapest).
       */
      store: z._default(z.enum(["local", "global", "workers-binding"]), "local"),
      binding: z.optional(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/))),
      /** When the store fails or exceeds `timeout`: open = allow (and count the error), closed = 503. */
      failureMode: z._default(z.enum(["open", "closed"]), "open"),
      timeout: z._default(durationAtMost(60_000), 100),
      /** Count and log what would be limited; never answer 429. */
      shadow: z._default(z.boolean(), false),
      /** Send RateLimit-Policy / RateLimit headers on allowed and limited responses. */
      responseHeaders: z._default(z.boolean(), true),
      rules: z.array(rateLimitRuleSchema).check(z.minLength(1), z.maxLength(64)),
    }).check(z.superRefine((spec, ctx) => {
      if ((spec.store === "workers-binding") !== (spec.binding !== undefined)) ctx.addIssue({ code: "custom", path: ["binding"], message: "binding names the Workers rate-limiting binding: required with store: workers-binding, and only then" });
      const seen = new Set<string>();
      spec.rules.forEach((r, i) => {
        if (seen.has(r.name)) ctx.addIssue({ code: "custom", path: ["rules", i, "name"], message: `duplicate rule name ${r.name}` });
        seen.add(r.name);
      });
    })),
});

export type RateLimitPolicy = z.output<typeof rateLimitPolicySchema>;
export type RateLimitRuleSpec = RateLimitPolicy["spec"]["rules"][number];
