import { z } from "zod";
import { hostnameSchema, portSchema } from "./common.js";
import { metadataSchema } from "./meta.js";

const listenerSchema = z
  .object({
    name: z.string().min(1).max(253),
    /** Only routes whose hostnames intersect this one attach; absent = any hostname. */
    hostname: hostnameSchema.optional(),
    port: portSchema,
    protocol: z.string().min(1),
    allowedRoutes: z
      .object({
        namespaces: z.object({ from: z.enum(["Same", "All", "Selector"]).default("Same"), selector: z.unknown().optional() }).loose().default({ from: "Same" }),
        kinds: z.array(z.object({ group: z.string().optional(), kind: z.string() })).optional(),
      })
      .loose()
      .default({ namespaces: { from: "Same" } }),
  })
  .loose();

/** gateway.networking.k8s.io/v1 Gateway: when present, HTTPRoutes serve only through listeners they attach to. */
export const gatewaySchema = z
  .object({
    apiVersion: z.literal("gateway.networking.k8s.io/v1"),
    kind: z.literal("Gateway"),
    metadata: metadataSchema,
    spec: z
      .object({
        gatewayClassName: z.string().min(1),
        listeners: z.array(listenerSchema).min(1).max(64),
      })
      .loose()
      .superRefine((spec, ctx) => {
        const names = new Set<string>();
        spec.listeners.forEach((l, i) => {
          if (names.has(l.name)) ctx.addIssue({ code: "custom", path: ["listeners", i, "name"], message: `duplicate listener name ${l.name}` });
          names.add(l.name);
        });
      }),
  })
  .loose();

export type Gateway = z.output<typeof gatewaySchema>;
export type GatewayListener = Gateway["spec"]["listeners"][number];
