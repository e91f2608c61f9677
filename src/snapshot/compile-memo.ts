import type { RouteTable } from "../routing/route-table.js";
import { RouteCompileCache } from "../routing/route-compile-cache.js";
import type { Backend } from "../upstream/backend.js";
import type { CompiledBackend } from "../upstream/compiled-backend.js";
import { compileBackend } from "../upstream/compile-backend.js";
import type { ServicePortView } from "../upstream/compile-backend.js";

/**
 * What one snapshot compile keeps for the next (a SnapshotHolder owns one): Backends compiled per
 * document, routes compiled per document (route-compile-cache.ts) and the last route table, whose
 * order and hostname groups the next table starts from. A reload of ten thousand routes that
 * changed one then compiles one route instead of ten thousand on the thread that serves.
 * Everything here is keyed by validated documents, which are immutable, and reused only where a
 * compile from scratch would build the same thing.
 */
export class CompileMemo {
  private readonly backends = new WeakMap<Backend, CompiledBackend>();
  private readonly ports = new WeakMap<Backend, Map<string, CompiledBackend>>();
  readonly routes = new RouteCompileCache();
  table: RouteTable | null = null;

  backend(doc: Backend): CompiledBackend {
    let compiled = this.backends.get(doc);
    if (compiled === undefined) this.backends.set(doc, (compiled = compileBackend(doc)));
    return compiled;
  }

  /** compileBackend(doc, port): the Backend as reached through one Service port. */
  readonly backendPort = (doc: Backend, port?: ServicePortView): CompiledBackend => {
    if (port === undefined) return this.backend(doc);
    let byPort = this.ports.get(doc);
    if (byPort === undefined) this.ports.set(doc, (byPort = new Map()));
    const key = `${port.targetPort ?? ""}\u0000${port.appProtocol ?? ""}`;
    let compiled = byPort.get(key);
    if (compiled === undefined) byPort.set(key, (compiled = compileBackend(doc, port)));
    return compiled;
  };
}
