import * as z from "zod";
import { strictObject } from "./strict-object.js";

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const metadataSchema = strictObject({
    name: z.string().max(253).regex(DNS_SUBDOMAIN, { message: "must be a lower-case RFC 1123 subdomain (a-z, 0-9, '-', '.')" }),
    namespace: z.string().max(63).regex(DNS_LABEL, { message: "must be a lower-case RFC 1123 label" }).default("default"),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    // The rest of Kubernetes ObjectMeta, as `kubectl get -o yaml` writes it; meshgate does not read them.
    creationTimestamp: z.string().optional(),
    generateName: z.string().optional(),
    selfLink: z.string().optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    generation: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    deletionTimestamp: z.string().optional(),
    deletionGracePeriodSeconds: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    ownerReferences: z.array(z.unknown()).max(256).optional(),
    finalizers: z.array(z.string()).max(256).optional(),
    managedFields: z.array(z.unknown()).max(1024).optional(),
  });

export type ObjectMeta = z.output<typeof metadataSchema>;
