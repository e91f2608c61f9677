import * as z from "../policy/zod.js";
import { durationAtMost } from "../policy/duration.js";
import { headerNameSchema } from "../policy/common.js";
import { metadataSchema } from "../policy/meta.js";
import { targetRefSchema } from "../policy/target-ref.js";
import { strictObject } from "../policy/strict-object.js";

const percentage = z.number().check(z.gte(0), z.lte(100));

const retrySchema = strictObject({
    /** Retries after the first try. */
    attempts: z._default(z.number().check(z.int(), z.gte(0), z.lte(10)), 2),
    /** Status codes that are retried. */
    codes: z._default(z.array(z.number().check(z.int(), z.gte(400), z.lte(599))), [502, 503, 504]),
    /**
     * Failures retried besides status codes. connect-failure is always safe (nothing was sent).
     * gRPC status names (Envoy's retry_on) retry a gRPC call the upstream answered trailers-only
     * with that grpc-status, whatever the method (gRPC calls are all POST).
     */
    on: z._default(z.array(z.enum(["connect-failure", "reset", "timeout", "cancelled", "deadline-exceeded", "resource-exhausted", "unavailable", "internal"])).check(z.maxLength(8)), ["connect-failure", "reset", "timeout"]),
    perTryTimeout: z.optional(durationAtMost(3_600_000)),
    backoff: z._default(strictObject({ base: z._default(durationAtMost(60_000), 25), max: z._default(durationAtMost(600_000), 250) }), { base: 25, max: 250 }),
    /** Retries allowed as a share of requests (over 10 s), plus a floor per second. */
    budget: z._default(strictObject({ ratio: z._default(z.number().check(z.gte(0), z.lte(10)), 0.2), minPerSecond: z._default(z.number().check(z.gte(0), z.lte(100_000)), 10) }), { ratio: 0.2, minPerSecond: 10 }),
    /** POST and PATCH are retried only when this is true (connect failures excepted). */
    nonIdempotent: z._default(z.boolean(), false),
    /** Request bodies up to this many bytes are held so they can be resent. */
    maxBufferBytes: z._default(z.number().check(z.int(), z.gte(0), z.lte(16 * 1024 * 1024)), 64 * 1024),
  }).check(z.refine((r) => r.backoff.max >= r.backoff.base, { message: "backoff.max must be at least backoff.base", path: ["backoff", "max"] }));

const hedgeSchema = strictObject({
  /** Send another attempt to another endpoint when no answer came within this delay. */
  delay: durationAtMost(3_600_000),
  maxHedges: z._default(z.number().check(z.int(), z.gte(1), z.lte(3)), 1),
  /** Hedges allowed as a share of hedgeable requests plus a floor per second; a bucket of its own, apart from the retry budget. */
  budget: z._default(strictObject({ ratio: z._default(z.number().check(z.gte(0), z.lte(10)), 0.1), minPerSecond: z._default(z.number().check(z.gte(0), z.lte(100_000)), 10) }), { ratio: 0.1, minPerSecond: 10 }),
});

const faultSchema = strictObject({
    abort: z.optional(strictObject({ status: z.number().check(z.int(), z.gte(200), z.lte(599)), percentage: z._default(percentage, 100) })),
    delay: z.optional(strictObject({ duration: durationAtMost(3_600_000), percentage: z._default(percentage, 100) })),
    /** Only requests carrying this header are subject to the fault (chaos tests on live traffic). */
    header: z.optional(z.pipe(headerNameSchema, z.transform((h) => h.toLowerCase()))),
  }).check(z.refine((f) => f.abort !== undefined || f.delay !== undefined, { message: "fault needs abort, delay or both" }));

const affinitySchema = strictObject({ header: z.optional(z.pipe(headerNameSchema, z.transform((h) => h.toLowerCase()))), cookie: z.optional(z.string().check(z.minLength(1))) }).check(z.refine((a) => (a.header === undefined) !== (a.cookie === undefined), { message: "sessionAffinity needs exactly one of header or cookie" }));

/** meshgate.dev/v1alpha1 TrafficPolicy: resilience for the HTTPRoute rules it targets. */
export const trafficPolicySchema = strictObject({
  apiVersion: z.literal("meshgate.dev/v1alpha1"),
  kind: z.literal("TrafficPolicy"),
  metadata: metadataSchema,
  spec: strictObject({
    targetRefs: z.array(targetRefSchema).check(z.minLength(1, { message: "a TrafficPolicy needs at least one targetRef" }), z.maxLength(16)),
    retry: z.optional(retrySchema),
    hedge: z.optional(hedgeSchema),
    fault: z.optional(faultSchema),
    sessionAffinity: z.optional(affinitySchema),
    /** Request bodies larger than this answer 413 for the targeted rules; replaces the listener's limit. 0 = no limit. */
    maxRequestBodyBytes: z.optional(z.number().check(z.int(), z.gte(0), z.lte(1024 ** 4))),
  }),
});

export type TrafficPolicy = z.output<typeof trafficPolicySchema>;
export type TrafficRetry = z.output<typeof retrySchema>;
