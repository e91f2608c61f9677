import type { Located } from "../policy/located.js";
import type { Backend } from "../upstream/backend.js";
import type { CompiledBackend } from "../upstream/compiled-backend.js";
import { compileBackend } from "../upstream/compile-backend.js";
import type { Service } from "../upstream/service.js";
import { servicePort, targetPortOf } from "../upstream/service-port.js";
import { defaultBackendDoc, discoveredBackend, serviceHostname, type ServiceDiscovery } from "../upstream/discovery.js";

/**
 * Kubernetes Service documents seen beside the routes. A backendRef `{name: S, port: P}` names
 * port P of Service S: its targetPort is where the workloads listen (endpoint URLs that write no
 * port of their own take it) and its appProtocol how they speak. Without a Service document a
 * backendRef means its Backend as written.
 */
export class ServicePorts {
  private readonly services = new Map<string, Service>();
  private readonly docs = new Map<string, Backend>();
  private readonly variants = new Map<string, CompiledBackend>();

  private readonly discovered = new Map<string, CompiledBackend>();

  constructor(
    services: readonly Located<Service>[],
    backends: readonly Located<Backend>[],
    private readonly discovery: ServiceDiscovery | null = null,
    /** The settings a discovered Service gets (its BackendTrafficPolicy / BackendTLSPolicy). */
    private readonly discoveredDoc: (base: Backend) => Backend = (base) => base,
    /** Compiles a Backend for one Service port (a CompileMemo's keeps each from one reload to the next). */
    private readonly compilePort: typeof compileBackend = compileBackend,
  ) {
    for (const s of services) this.services.set(`${s.doc.metadata.namespace}/${s.doc.metadata.name}`, s.doc);
    for (const b of backends) this.docs.set(`${b.doc.metadata.namespace}/${b.doc.metadata.name}`, b.doc);
  }

  /** The Service document "namespace/name", if one was given. */
  service(key: string): Service | undefined {
    return this.services.get(key);
  }

  /**
   * The backend a ref reaches through Service `key` port `port`, or why it cannot (the ref then
   * answers 500, as Gateway API has it for a port the Service does not expose).
   */
  resolve(key: string, backend: CompiledBackend, port: number | undefined, service = true): CompiledBackend | string {
    const doc = this.docs.get(key);
    if (doc === undefined) return backend;
    // A v1 Service document speaks for its ports (refs to a Service only); else the Backend's own `spec.ports`.
    const svc = service ? this.services.get(key) : undefined;
    const ports = svc !== undefined && svc.spec.ports.length > 0 ? svc.spec.ports : (doc.spec.ports ?? []);
    if (ports.length === 0) return backend;
    const what = svc !== undefined && svc.spec.ports.length > 0 ? "Service" : "Backend";
    // Gateway API requires a port on Service refs; a single-port Service leaves no doubt which.
    const chosen = port === undefined ? (ports.length === 1 ? ports[0]! : null) : (ports.find((p) => p.port === port) ?? null);
    if (chosen === null && port === undefined) return backend;
    if (chosen === null) return `${what} ${key} has no port ${port} (it lists ${ports.map((p) => p.port).join(", ")}); its share of traffic answers 500`;
    const variantKey = `${key}:${chosen.port}`;
    let variant = this.variants.get(variantKey);
    if (variant === undefined) this.variants.set(variantKey, (variant = this.compilePort(doc, { targetPort: targetPortOf(chosen), appProtocol: chosen.appProtocol ?? null })));
    return variant;
  }

  /**
   * Service `key` without a Backend document, found by discovery (`S.N.svc.<cluster-domain>`),
   * on `port` — or the targetPort a Service document gives it. Null when discovery is off;
   * a string when the ref cannot work (no port, or one the Service does not list).
   */
  discover(key: string, port: number | undefined): CompiledBackend | string | null {
    if (this.discovery === null) return null;
    const service = this.services.get(key);
    const listed = service === undefined || service.spec.ports.length === 0 ? null : port === undefined ? (service.spec.ports.length === 1 ? service.spec.ports[0]! : null) : servicePort(service, port);
    if (service !== undefined && service.spec.ports.length > 0 && listed === null) {
      return port === undefined ? `Service ${key} has several ports; the backendRef must name one` : `Service ${key} has no port ${port} (it lists ${service.spec.ports.map((p) => p.port).join(", ")}); its share of traffic answers 500`;
    }
    const chosen = listed?.port ?? port;
    if (chosen === undefined) return `backendRef to Service ${key} needs a port: DNS discovery finds addresses, not ports; its share of traffic answers 500`;
    const id = `${key}:${chosen}`;
    let backend = this.discovered.get(id);
    if (backend === undefined) {
      const slash = key.indexOf("/");
      const [namespace, name] = [key.slice(0, slash), key.slice(slash + 1)];
      const live = this.discovery.watch(serviceHostname(this.discovery, namespace, name));
      const view = { targetPort: listed === null ? chosen : targetPortOf(listed), appProtocol: listed?.appProtocol ?? null };
      this.discovered.set(id, (backend = discoveredBackend(this.discoveredDoc(defaultBackendDoc(namespace, name)), view, live)));
    }
    return backend;
  }

  /** The DNS names this snapshot watches. */
  discoveredHostnames(): string[] {
    if (this.discovery === null) return [];
    const discovery = this.discovery;
    return [...new Set([...this.discovered.keys()].map((id) => {
      const [namespace, rest] = [id.slice(0, id.indexOf("/")), id.slice(id.indexOf("/") + 1)];
      return serviceHostname(discovery, namespace, rest.slice(0, rest.lastIndexOf(":")));
    }))];
  }

  /** Backends that differ from their document's by endpoint ports, or were discovered: for health checks, pools and /config. */
  extraBackends(): ReadonlyMap<string, CompiledBackend> {
    return new Map([...this.variants, ...this.discovered]);
  }
}
