import type { Service, ServicePort } from "./service.js";

// Apart from the Service schema (service.ts): the compile on the serving thread reads ports
// without loading zod.

/** The Service port a backendRef's `port` names, or null when the Service does not list it. */
export function servicePort(service: Service, port: number): ServicePort | null {
  return service.spec.ports.find((p) => p.port === port) ?? null;
}

/** The port the workloads listen on: a numeric targetPort, else the Service port (named targetPorts need the pods). */
export function targetPortOf(port: Pick<ServicePort, "port" | "targetPort">): number {
  return typeof port.targetPort === "number" ? port.targetPort : port.port;
}
