import { markRouteKind } from "../policy/route-kind.js";
import type { GRPCMethodMatch, GRPCRoute } from "./grpcroute.js";
import type { HTTPRoute, HTTPRouteMatch } from "./httproute.js";

// The translation apart from the GRPCRoute schema (grpcroute.ts): the serving thread translates
// posted GRPCRoutes and ranks their matches without loading zod.

/** What GRPCRoute precedence reads of a match, beyond the header count. */
export interface GrpcRank {
  readonly serviceChars: number;
  readonly methodChars: number;
}

const ranks = new WeakMap<HTTPRouteMatch, GrpcRank>();

/** The GRPCRoute precedence of a translated match, or undefined for an HTTPRoute's own. */
export function grpcRankOf(match: HTTPRouteMatch): GrpcRank | undefined {
  return ranks.get(match);
}

/** Only gRPC requests match a GRPCRoute: `application/grpc`, `application/grpc+proto`, `application/grpc;…`. */
const GRPC_CONTENT_TYPE = { type: "RegularExpression" as const, name: "content-type", value: "application/grpc([+;].*)?" };

/**
 * A GRPCRoute as the HTTPRoute it means on the wire: every gRPC call is `POST /service/method`,
 * so a method match is a path match (Exact service and method: an Exact path; service only: the
 * `/service/` prefix; otherwise an RE2 expression), plus a content-type match so plain HTTP never
 * takes a GRPCRoute. Routing, attachment, mesh, policies and filters then run as for HTTPRoute;
 * the GRPCRoute precedence rides along (grpcRankOf) and the backends are HTTP/2 (compile-snapshot).
 */
export function grpcToHttpRoute(route: GRPCRoute): HTTPRoute {
  const rules = route.spec.rules.map((rule) => {
    const matches = (rule.matches.length === 0 ? [{ headers: [] }] : rule.matches).map((m) => {
      const match: HTTPRouteMatch = { path: pathOf(m.method), headers: [GRPC_CONTENT_TYPE, ...m.headers], queryParams: [], method: "POST" };
      ranks.set(match, { serviceChars: m.method?.service?.length ?? 0, methodChars: m.method?.method?.length ?? 0 });
      return match;
    });
    return { ...(rule.name !== undefined ? { name: rule.name } : {}), matches, filters: rule.filters, backendRefs: rule.backendRefs };
  });
  const http = { apiVersion: route.apiVersion, kind: "HTTPRoute" as const, metadata: route.metadata, spec: { parentRefs: route.spec.parentRefs, hostnames: route.spec.hostnames, rules } } as HTTPRoute;
  markRouteKind(http, "GRPCRoute");
  return http;
}

function pathOf(m: GRPCMethodMatch | undefined): HTTPRouteMatch["path"] {
  if (m === undefined) return { type: "PathPrefix", value: "/" };
  if (m.type === "Exact") {
    if (m.service !== undefined && m.method !== undefined) return { type: "Exact", value: `/${m.service}/${m.method}` };
    if (m.service !== undefined) return { type: "PathPrefix", value: `/${m.service}` };
    return { type: "RegularExpression", value: `/[^/]+/${m.method!}` };
  }
  return { type: "RegularExpression", value: `/(?:${m.service ?? "[^/]+"})/(?:${m.method ?? "[^/]+"})` };
}
