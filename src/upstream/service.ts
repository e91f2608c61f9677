import * as z from "../policy/zod.js";
import { metadataSchema } from "../policy/meta.js";
import { portSchema } from "../policy/common.js";
import { strictObject } from "../policy/strict-object.js";

const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** One entry of a Kubernetes Service's `spec.ports`: what meshgate reads of it. */
const servicePortSchema = strictObject({
  name: z.optional(z.string().check(z.maxLength(63), z.regex(PORT_NAME, { message: "must be a lower-case RFC 1123 label" }))),
  port: portSchema,
  /** A number, or the name of a container port (which only the pods know: meshgate keeps the Service port then). */
  targetPort: z.optional(z.union([portSchema, z.string().check(z.minLength(1), z.maxLength(15), z.regex(PORT_NAME, { message: "must be a port number or an IANA_SVC_NAME" }))])),
  protocol: z._default(z.enum(["TCP", "UDP", "SCTP"]), "TCP"),
  /** Kubernetes appProtocol (`kubernetes.io/h2c`, `kubernetes.io/ws`, `http`, …), carried to the backend. */
  appProtocol: z.optional(z.string().check(z.minLength(1), z.maxLength(253))),
  nodePort: z.optional(portSchema),
});

/**
 * Kubernetes `v1 Service`, as users keep it beside their routes. meshgate reads its ports only;
 * every other ServiceSpec field is accepted (so `kubectl get -o yaml` output loads) and not read.
 * Unknown fields are still refused: a typo in `ports` would silently change the target port.
 */
export const serviceSchema = strictObject({
  apiVersion: z.literal("v1"),
  kind: z.literal("Service"),
  metadata: metadataSchema,
  spec: z._default(strictObject({
    ports: z._default(z.array(servicePortSchema).check(z.maxLength(256)), []).check(z.superRefine((ports, ctx) => {
        const seen = new Set<number>();
        ports.forEach((p, i) => {
          if (seen.has(p.port)) ctx.addIssue({ code: "custom", path: [i, "port"], message: `port ${p.port} is listed twice` });
          seen.add(p.port);
        });
      })),
    selector: z.optional(z.record(z.string(), z.string())),
    type: z.optional(z.enum(["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"])),
    clusterIP: z.optional(z.string()),
    clusterIPs: z.optional(z.array(z.string()).check(z.maxLength(2))),
    externalName: z.optional(z.string()),
    externalIPs: z.optional(z.array(z.string()).check(z.maxLength(256))),
    externalTrafficPolicy: z.optional(z.string()),
    internalTrafficPolicy: z.optional(z.string()),
    healthCheckNodePort: z.optional(portSchema),
    ipFamilies: z.optional(z.array(z.string()).check(z.maxLength(2))),
    ipFamilyPolicy: z.optional(z.string()),
    loadBalancerClass: z.optional(z.string()),
    loadBalancerIP: z.optional(z.string()),
    loadBalancerSourceRanges: z.optional(z.array(z.string()).check(z.maxLength(256))),
    allocateLoadBalancerNodePorts: z.optional(z.boolean()),
    publishNotReadyAddresses: z.optional(z.boolean()),
    sessionAffinity: z.optional(z.string()),
    sessionAffinityConfig: z.optional(z.unknown()),
    trafficDistribution: z.optional(z.string()),
  }), { ports: [] }),
  // Written by the cluster, never read.
  status: z.optional(z.unknown()),
});

export type Service = z.output<typeof serviceSchema>;
export type ServicePort = Service["spec"]["ports"][number];
