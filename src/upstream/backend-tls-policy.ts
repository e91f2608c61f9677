import * as z from "../policy/zod.js";
import { metadataSchema } from "../policy/meta.js";
import { preciseHostnameSchema } from "../policy/common.js";
import { strictObject } from "../policy/strict-object.js";

const localRef = strictObject({ group: z._default(z.literal(""), ""), kind: z._default(z.literal("ConfigMap", { message: 'caCertificateRefs name ConfigMaps (kind: ConfigMap, group: "") holding the CA bundle under ca.crt' }), "ConfigMap"), name: z.string().check(z.minLength(1), z.maxLength(253)) });

/**
 * gateway.networking.k8s.io/v1 BackendTLSPolicy: the gateway speaks TLS to a Service's endpoints
 * and verifies them. `validation.hostname` is the SNI and the name verified; the CAs are the
 * PEM bundle under `ca.crt` of the ConfigMaps named by `caCertificateRefs` (documents in the
 * same folder), or the platform's roots with `wellKnownCACertificates: System` — one or the other.
 */
export const backendTlsPolicySchema = strictObject({
  apiVersion: z.literal("gateway.networking.k8s.io/v1"),
  kind: z.literal("BackendTLSPolicy"),
  metadata: metadataSchema,
  spec: strictObject({
    targetRefs: z.array(strictObject({ group: z._default(z.literal("", { message: 'BackendTLSPolicy targets Services: group must be ""' }), ""), kind: z.literal("Service", { message: "BackendTLSPolicy targets Services (kind: Service)" }), name: z.string().check(z.minLength(1), z.maxLength(253)), sectionName: z.optional(z.string().check(z.minLength(1), z.maxLength(253))) })).check(z.minLength(1), z.maxLength(16), z.superRefine((refs, ctx) => {
        refs.forEach((r, i) => {
          if (r.sectionName !== undefined) ctx.addIssue({ code: "custom", path: [i, "sectionName"], message: "sectionName (a Service port) is not supported: the policy applies to every port of the Service" });
        });
      })),
    validation: strictObject({
      caCertificateRefs: z.optional(z.array(localRef).check(z.maxLength(8))),
      wellKnownCACertificates: z.optional(z.literal("System", { message: "wellKnownCACertificates takes System" })),
      hostname: preciseHostnameSchema,
      subjectAltNames: z.optional(z.array(z.unknown()).check(z.maxLength(0, { message: "subjectAltNames is not supported yet: meshgate verifies validation.hostname" }))),
    }).check(z.superRefine((v, ctx) => {
      const cas = v.caCertificateRefs?.length ?? 0;
      if ((cas > 0) === (v.wellKnownCACertificates !== undefined)) ctx.addIssue({ code: "custom", path: ["caCertificateRefs"], message: "give caCertificateRefs or wellKnownCACertificates: System (exactly one)" });
    })),
    options: z.optional(z.record(z.string(), z.string())),
  }),
  status: z.optional(z.unknown()),
});

export type BackendTLSPolicy = z.output<typeof backendTlsPolicySchema>;

/** Kubernetes v1 ConfigMap: read only when a BackendTLSPolicy names it (its `ca.crt`). */
export const configMapSchema = strictObject({
  apiVersion: z.literal("v1"),
  kind: z.literal("ConfigMap"),
  metadata: metadataSchema,
  data: z._default(z.record(z.string(), z.string()), {}),
  binaryData: z.optional(z.record(z.string(), z.string())),
  immutable: z.optional(z.boolean()),
});

export type ConfigMap = z.output<typeof configMapSchema>;
