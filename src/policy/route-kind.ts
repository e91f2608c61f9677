/**
 * Which Gateway API kind a route document was written as. A GRPCRoute is compiled through the
 * HTTPRoute machinery (routing/grpcroute.ts translates it), so attachment (policies, Gateway
 * listeners' allowedRoutes) asks here instead of reading the translated document's `kind`.
 */
export type RouteKind = "HTTPRoute" | "GRPCRoute";

const kinds = new WeakMap<object, RouteKind>();

export function markRouteKind(route: object, kind: RouteKind): void {
  kinds.set(route, kind);
}

export function routeKindOf(route: object): RouteKind {
  return kinds.get(route) ?? "HTTPRoute";
}
