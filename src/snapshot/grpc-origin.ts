import type { GRPCRoute } from "../routing/grpcroute.js";
import type { HTTPRoute } from "../routing/httproute.js";

// Apart from validate.ts so that the thread receiving a posted set (policy-wire.ts) can ask
// without loading the document schemas.

const translatedFrom = new WeakMap<HTTPRoute, GRPCRoute>();

/** Notes that `http` is the translation of `grpc` (validate.ts). */
export function noteGrpcTranslation(http: HTTPRoute, grpc: GRPCRoute): void {
  translatedFrom.set(http, grpc);
}

/**
 * The GRPCRoute a route was translated from. The translation carries side data (its kind, its
 * precedence) that a structured clone drops: a thread that receives the set translates again.
 */
export function grpcRouteOf(route: HTTPRoute): GRPCRoute | undefined {
  return translatedFrom.get(route);
}
