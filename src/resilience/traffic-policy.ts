import * as z from "zod";
import { durationAtMost } from "../policy/duration.js";
import { headerNameSchema } from "../policy/common.js";
import { metadataSchema } from "../policy/meta.js";
import { targetRefSchema } from "../policy/target-ref.js";
import { strictObject } from "../policy/strict-object.js";

const percentage = z.number().min(0).max(100);

const retrySchema = strictObject({
    /** Retries after the first try. */
    attempts: z.number().int().min(0).max(10).default(2),
    /** Status codes that are retried. */
    codes: z.array(z.number().int().min(400).max(599)).default([502, 503, 504]),
    /**
     * Failures retried besides status codes. connect-failure is always safe (nothing was sent).
     * gRPC status names (Envoy's retry_on) retry a gRPC call the upstream answered trailers-only
     * with that grpc-status, whatever the method (gRPC calls are all POST).
     */
    on: z.array(z.enum(["connect-failure", "reset", "timeout", "cancelled", "deadline-exceeded", "resource-exhausted", "unavailable", "internal"])).max(8).default(["connect-failure", "reset", "timeout"]),
    perTryTimeout: durationAtMost(3_600_000).optional(),
    backoff: strictObject({ base: durationAtMost(60_000).default(25), max: durationAtMost(600_000).default(250) }).default({ base: 25, max: 250 }),
    /** Retries allowed as a share of requests (over 10 s), plus a floor per second. */
    budget: strictObject({ ratio: z.number().min(0).max(10).default(0.2), minPerSecond: z.number().min(0).max(100_000).default(10) }).default({ ratio: 0.2, minPerSecond: 10 }),
    /** POST and PATCH are retried only when this is true (connect failures excepted). */
    nonIdempotent: z.boolean().default(false),
    /** Request bodies up to this many bytes are held so they can be resent. */
    maxBufferBytes: z.number().int().min(0).max(16 * 1024 * 1024).default(64 * 1024),
  })
  .refine((r) => r.backoff.max >= r.backoff.base, { message: "backoff.max must be at least backoff.base", path: ["backoff", "max"] });

const hedgeSchema = strictObject({
  /** Send another attempt to another endpoint when no answer came within this delay. */
  delay: durationAtMost(3_600_000),
  maxHedges: z.number().int().min(1).max(3).default(1),
  /** Hedges allowed as a share of hedgeable requests plus a floor per second; a bucket of its own, apart from the retry budget. */
  budget: strictObject({ ratio: z.number().min(0).max(10).default(0.1), minPerSecond: z.number().min(0).max(100_000).default(10) }).default({ ratio: 0.1, minPerSecond: 10 }),
});

const faultSchema = strictObject({
    abort: strictObject({ status: z.number().int().min(200).max(599), percentage: percentage.default(100) }).optional(),
    delay: strictObject({ duration: durationAtMost(3_600_000), percentage: percentage.default(100) }).optional(),
    /** Only requests carrying this header are subject to the fault (chaos tests on live traffic). */
    header: headerNameSchema.transform((h) => h.toLowerCase()).optional(),
  })
  .refine((f) => f.abort !== undefined || f.delay !== undefined, { message: "fault needs abort, delay or both" });

const affinitySchema = strictObject({ header: headerNameSchema.transform((h) => h.toLowerCase()).optional(), cookie: z.string().min(1).optional() })
  .refine((a) => (a.header === undefined) !== (a.cookie === undefined), { message: "sessionAffinity needs exactly one of header or cookie" });

/** meshgate.dev/v1alpha1 TrafficPolicy: resilience for the HTTPRoute rules it targets. */
export const trafficPolicySchema = strictObject({
  apiVersion: z.literal("meshgate.dev/v1alpha1"),
  kind: z.literal("TrafficPolicy"),
  metadata: metadataSchema,
  spec: strictObject({
    targetRefs: z.array(targetRefSchema).min(1, { message: "a TrafficPolicy needs at least one targetRef" }).max(16),
    retry: retrySchema.optional(),
    hedge: hedgeSchema.optional(),
    fault: faultSchema.optional(),
    sessionAffinity: affinitySchema.optional(),
    /** Request bodies larger than this answer 413 for the targeted rules; replaces the listener's limit. 0 = no limit. */
    maxRequestBodyBytes: z.number().int().min(0).max(1024 ** 4).optional(),
  }),
});

export type TrafficPolicy = z.output<typeof trafficPolicySchema>;
export type TrafficRetry = z.output<typeof retrySchema>;
