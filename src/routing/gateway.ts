import * as z from "../policy/zod.js";
import { hostnameSchema, portSchema } from "../policy/common.js";
import { metadataSchema } from "../policy/meta.js";
import { strictObject } from "../policy/strict-object.js";

/** Kubernetes LabelSelector (allowedRoutes.namespaces.selector). */
const labelSelectorSchema = strictObject({
  matchLabels: z.optional(z.record(z.string(), z.string())),
  matchExpressions: z.optional(z.array(strictObject({ key: z.string().check(z.minLength(1)), operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]), values: z.optional(z.array(z.string()).check(z.maxLength(256))) })).check(z.maxLength(64))),
});

const objectRefSchema = strictObject({ group: z.optional(z.string()), kind: z.optional(z.string()), name: z.string().check(z.minLength(1)), namespace: z.optional(z.string()) });

/** Gateway API listener TLS; meshgate's own listeners take certificates from flags, so this is accepted and not read. */
const listenerTlsSchema = strictObject({
  mode: z.optional(z.enum(["Terminate", "Passthrough"])),
  certificateRefs: z.optional(z.array(objectRefSchema).check(z.maxLength(64))),
  frontendValidation: z.optional(strictObject({ caCertificateRefs: z.optional(z.array(objectRefSchema).check(z.maxLength(64))), mode: z.optional(z.string()) })),
  options: z.optional(z.record(z.string(), z.string())),
});

const listenerSchema = strictObject({
  name: z.string().check(z.minLength(1), z.maxLength(253)),
  /** Only routes whose hostnames intersect this one attach; absent = any hostname. */
  hostname: z.optional(hostnameSchema),
  port: portSchema,
  protocol: z.string().check(z.minLength(1)),
  tls: z.optional(listenerTlsSchema),
  allowedRoutes: z._default(strictObject({
    namespaces: z._default(strictObject({ from: z._default(z.enum(["Same", "All", "Selector"]), "Same"), selector: z.optional(labelSelectorSchema) }), { from: "Same" }),
    kinds: z.optional(z.array(strictObject({ group: z.optional(z.string()), kind: z.string() })).check(z.maxLength(16))),
  }), { namespaces: { from: "Same" } }),
});

/** gateway.networking.k8s.io/v1 Gateway: when present, HTTPRoutes serve only through listeners they attach to. */
export const gatewaySchema = strictObject({
  apiVersion: z.literal("gateway.networking.k8s.io/v1"),
  kind: z.literal("Gateway"),
  metadata: metadataSchema,
  spec: strictObject({
    gatewayClassName: z.string().check(z.minLength(1)),
    listeners: z.array(listenerSchema).check(z.minLength(1), z.maxLength(64)),
    // Gateway API fields for a cluster's infrastructure; accepted so real Gateway documents load, not read.
    addresses: z.optional(z.array(strictObject({ type: z.optional(z.string()), value: z.string() })).check(z.maxLength(16))),
    infrastructure: z.optional(strictObject({ labels: z.optional(z.record(z.string(), z.string())), annotations: z.optional(z.record(z.string(), z.string())), parametersRef: z.optional(objectRefSchema) })),
    backendTLS: z.optional(strictObject({ clientCertificateRef: z.optional(objectRefSchema) })),
    allowedListeners: z.optional(strictObject({ namespaces: z.optional(strictObject({ from: z.optional(z.enum(["Same", "All", "Selector", "None"])), selector: z.optional(labelSelectorSchema) })) })),
  }).check(z.superRefine((spec, ctx) => {
    const names = new Set<string>();
    spec.listeners.forEach((l, i) => {
      if (names.has(l.name)) ctx.addIssue({ code: "custom", path: ["listeners", i, "name"], message: `duplicate listener name ${l.name}` });
      names.add(l.name);
    });
  })),
  // Written by controllers, not by authors: accepted so `kubectl get -o yaml` output loads, never read.
  status: z.optional(z.unknown()),
});

export type Gateway = z.output<typeof gatewaySchema>;
export type GatewayListener = Gateway["spec"]["listeners"][number];
