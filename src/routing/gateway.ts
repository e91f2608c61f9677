import * as z from "zod";
import { hostnameSchema, portSchema } from "../policy/common.js";
import { metadataSchema } from "../policy/meta.js";
import { strictObject } from "../policy/strict-object.js";

/** Kubernetes LabelSelector (allowedRoutes.namespaces.selector). */
const labelSelectorSchema = strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z.array(strictObject({ key: z.string().min(1), operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]), values: z.array(z.string()).max(256).optional() })).max(64).optional(),
});

const objectRefSchema = strictObject({ group: z.string().optional(), kind: z.string().optional(), name: z.string().min(1), namespace: z.string().optional() });

/** Gateway API listener TLS; meshgate's own listeners take certificates from flags, so this is accepted and not read. */
const listenerTlsSchema = strictObject({
  mode: z.enum(["Terminate", "Passthrough"]).optional(),
  certificateRefs: z.array(objectRefSchema).max(64).optional(),
  frontendValidation: strictObject({ caCertificateRefs: z.array(objectRefSchema).max(64).optional(), mode: z.string().optional() }).optional(),
  options: z.record(z.string(), z.string()).optional(),
});

const listenerSchema = strictObject({
  name: z.string().min(1).max(253),
  /** Only routes whose hostnames intersect this one attach; absent = any hostname. */
  hostname: hostnameSchema.optional(),
  port: portSchema,
  protocol: z.string().min(1),
  tls: listenerTlsSchema.optional(),
  allowedRoutes: strictObject({
    namespaces: strictObject({ from: z.enum(["Same", "All", "Selector"]).default("Same"), selector: labelSelectorSchema.optional() }).default({ from: "Same" }),
    kinds: z.array(strictObject({ group: z.string().optional(), kind: z.string() })).max(16).optional(),
  }).default({ namespaces: { from: "Same" } }),
});

/** gateway.networking.k8s.io/v1 Gateway: when present, HTTPRoutes serve only through listeners they attach to. */
export const gatewaySchema = strictObject({
  apiVersion: z.literal("gateway.networking.k8s.io/v1"),
  kind: z.literal("Gateway"),
  metadata: metadataSchema,
  spec: strictObject({
    gatewayClassName: z.string().min(1),
    listeners: z.array(listenerSchema).min(1).max(64),
    // Gateway API fields for a cluster's infrastructure; accepted so real Gateway documents load, not read.
    addresses: z.array(strictObject({ type: z.string().optional(), value: z.string() })).max(16).optional(),
    infrastructure: strictObject({ labels: z.record(z.string(), z.string()).optional(), annotations: z.record(z.string(), z.string()).optional(), parametersRef: objectRefSchema.optional() }).optional(),
    backendTLS: strictObject({ clientCertificateRef: objectRefSchema.optional() }).optional(),
    allowedListeners: strictObject({ namespaces: strictObject({ from: z.enum(["Same", "All", "Selector", "None"]).optional(), selector: labelSelectorSchema.optional() }).optional() }).optional(),
  }).superRefine((spec, ctx) => {
    const names = new Set<string>();
    spec.listeners.forEach((l, i) => {
      if (names.has(l.name)) ctx.addIssue({ code: "custom", path: ["listeners", i, "name"], message: `duplicate listener name ${l.name}` });
      names.add(l.name);
    });
  }),
  // Written by controllers, not by authors: accepted so `kubectl get -o yaml` output loads, never read.
  status: z.unknown().optional(),
});

export type Gateway = z.output<typeof gatewaySchema>;
export type GatewayListener = Gateway["spec"]["listeners"][number];
