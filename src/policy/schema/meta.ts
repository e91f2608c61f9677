import { z } from "zod";

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const metadataSchema = z
  .object({
    name: z.string().max(253).regex(DNS_SUBDOMAIN, { message: "must be a lower-case RFC 1123 subdomain (a-z, 0-9, '-', '.')" }),
    namespace: z.string().max(63).regex(DNS_LABEL, { message: "must be a lower-case RFC 1123 label" }).default("default"),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    creationTimestamp: z.string().optional(),
  })
  .loose();

export type ObjectMeta = z.output<typeof metadataSchema>;
