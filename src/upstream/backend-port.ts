import type { CompiledBackend } from "./compiled-backend.js";
import type { UpstreamProtocol } from "./app-protocol.js";
import { isDiscovered } from "./discovery.js";

/** Variants already made from a Backend, so each protocol has one and its pools are kept. */
const variants = new WeakMap<CompiledBackend, Map<UpstreamProtocol, CompiledBackend>>();

/**
 * `backend` spoken to in `protocol` when a route kind insists on one (a GRPCRoute's backends are
 * always HTTP/2), else as it is. Which port and appProtocol a backendRef reaches is decided by
 * ServicePorts (routing/service-ports.ts); this only overrides the protocol.
 */
export function withProtocol(backend: CompiledBackend, protocol: UpstreamProtocol | undefined): CompiledBackend {
  if (protocol === undefined || protocol === backend.protocol) return backend;
  let cache = variants.get(backend);
  if (cache === undefined) variants.set(backend, (cache = new Map()));
  let variant = cache.get(protocol);
  // A discovered backend's endpoints change under it: the variant reads them through it.
  if (variant === undefined) cache.set(protocol, (variant = isDiscovered(backend) ? Object.assign(Object.create(backend) as CompiledBackend, { protocol }) : { ...backend, protocol }));
  return variant;
}

/** Every protocol variant made from `base` so far (their pools must be kept across swaps). */
export function variantsOf(base: CompiledBackend): readonly CompiledBackend[] {
  return [...(variants.get(base)?.values() ?? [])];
}
