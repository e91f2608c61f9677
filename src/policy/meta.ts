import * as z from "./zod.js";
import { strictObject } from "./strict-object.js";

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const metadataSchema = strictObject({
    name: z.string().check(z.maxLength(253), z.regex(DNS_SUBDOMAIN, { message: "must be a lower-case RFC 1123 subdomain (a-z, 0-9, '-', '.')" })),
    namespace: z._default(z.string().check(z.maxLength(63), z.regex(DNS_LABEL, { message: "must be a lower-case RFC 1123 label" })), "default"),
    labels: z.optional(z.record(z.string(), z.string())),
    annotations: z.optional(z.record(z.string(), z.string())),
    // The rest of Kubernetes ObjectMeta, as `kubectl get -o yaml` writes it; meshgate does not read them.
    creationTimestamp: z.optional(z.string()),
    generateName: z.optional(z.string()),
    selfLink: z.optional(z.string()),
    uid: z.optional(z.string()),
    resourceVersion: z.optional(z.string()),
    generation: z.optional(z.number().check(z.int(), z.gte(0), z.lte(Number.MAX_SAFE_INTEGER))),
    deletionTimestamp: z.optional(z.string()),
    deletionGracePeriodSeconds: z.optional(z.number().check(z.int(), z.gte(0), z.lte(Number.MAX_SAFE_INTEGER))),
    ownerReferences: z.optional(z.array(z.unknown()).check(z.maxLength(256))),
    finalizers: z.optional(z.array(z.string()).check(z.maxLength(256))),
    managedFields: z.optional(z.array(z.unknown()).check(z.maxLength(1024))),
  });

export type ObjectMeta = z.output<typeof metadataSchema>;
