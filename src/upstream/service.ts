import * as z from "zod";
import { metadataSchema } from "../policy/meta.js";
import { portSchema } from "../policy/common.js";
import { strictObject } from "../policy/strict-object.js";

const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** One entry of a Kubernetes Service's `spec.ports`: what meshgate reads of it. */
const servicePortSchema = strictObject({
  name: z.string().max(63).regex(PORT_NAME, { message: "must be a lower-case RFC 1123 label" }).optional(),
  port: portSchema,
  /** A number, or the name of a container port (which only the pods know: meshgate keeps the Service port then). */
  targetPort: z.union([portSchema, z.string().min(1).max(15).regex(PORT_NAME, { message: "must be a port number or an IANA_SVC_NAME" })]).optional(),
  protocol: z.enum(["TCP", "UDP", "SCTP"]).default("TCP"),
  /** Kubernetes appProtocol (`kubernetes.io/h2c`, `kubernetes.io/ws`, `http`, …), carried to the backend. */
  appProtocol: z.string().min(1).max(253).optional(),
  nodePort: portSchema.optional(),
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
  spec: strictObject({
    ports: z
      .array(servicePortSchema)
      .max(256)
      .default([])
      .superRefine((ports, ctx) => {
        const seen = new Set<number>();
        ports.forEach((p, i) => {
          if (seen.has(p.port)) ctx.addIssue({ code: "custom", path: [i, "port"], message: `port ${p.port} is listed twice` });
          seen.add(p.port);
        });
      }),
    selector: z.record(z.string(), z.string()).optional(),
    type: z.enum(["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]).optional(),
    clusterIP: z.string().optional(),
    clusterIPs: z.array(z.string()).max(2).optional(),
    externalName: z.string().optional(),
    externalIPs: z.array(z.string()).max(256).optional(),
    externalTrafficPolicy: z.string().optional(),
    internalTrafficPolicy: z.string().optional(),
    healthCheckNodePort: portSchema.optional(),
    ipFamilies: z.array(z.string()).max(2).optional(),
    ipFamilyPolicy: z.string().optional(),
    loadBalancerClass: z.string().optional(),
    loadBalancerIP: z.string().optional(),
    loadBalancerSourceRanges: z.array(z.string()).max(256).optional(),
    allocateLoadBalancerNodePorts: z.boolean().optional(),
    publishNotReadyAddresses: z.boolean().optional(),
    sessionAffinity: z.string().optional(),
    sessionAffinityConfig: z.unknown().optional(),
    trafficDistribution: z.string().optional(),
  }).default({ ports: [] }),
  // Written by the cluster, never read.
  status: z.unknown().optional(),
});

export type Service = z.output<typeof serviceSchema>;
export type ServicePort = Service["spec"]["ports"][number];

/** The Service port a backendRef's `port` names, or null when the Service does not list it. */
export function servicePort(service: Service, port: number): ServicePort | null {
  return service.spec.ports.find((p) => p.port === port) ?? null;
}

/** The port the workloads listen on: a numeric targetPort, else the Service port (named targetPorts need the pods). */
export function targetPortOf(port: Pick<ServicePort, "port" | "targetPort">): number {
  return typeof port.targetPort === "number" ? port.targetPort : port.port;
}
