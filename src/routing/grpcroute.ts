import * as z from "../policy/zod.js";
import { backendObjectRefSchema, headerNameSchema, hostnameSchema, portSchema, regexIssue } from "../policy/common.js";
import { strictObject } from "../policy/strict-object.js";
import { metadataSchema } from "../policy/meta.js";
import { markRouteKind } from "../policy/route-kind.js";
import { checkFilterList, httpRouteFilterSchema } from "./httproute-filter.js";
import type { HTTPRoute, HTTPRouteMatch } from "./httproute.js";

/** Filters GRPCRoute defines (Gateway API v1): the rest are HTTPRoute's only. */
const GRPC_FILTERS = new Set(["RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror"]);

const grpcFilterSchema = httpRouteFilterSchema.check(z.superRefine((f, ctx) => {
  if (!GRPC_FILTERS.has(f.type)) ctx.addIssue({ code: "custom", path: ["type"], message: `GRPCRoute filters are RequestHeaderModifier, ResponseHeaderModifier and RequestMirror; ${f.type} is HTTPRoute's only` });
}));

const SERVICE = /^(?:[A-Za-z_][A-Za-z_0-9]*\.)*[A-Za-z_][A-Za-z_0-9]*$/;
const METHOD = /^[A-Za-z_][A-Za-z_0-9]*$/;

const methodMatchSchema = strictObject({
  type: z._default(z.enum(["Exact", "RegularExpression"]), "Exact"),
  service: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
  method: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
}).check(z.superRefine((m, ctx) => {
  if (m.service === undefined && m.method === undefined) ctx.addIssue({ code: "custom", message: "a method match needs service, method or both" });
  if (m.type === "Exact") {
    if (m.service !== undefined && !SERVICE.test(m.service)) ctx.addIssue({ code: "custom", path: ["service"], message: `must be a fully qualified gRPC service name such as helloworld.Greeter (got "${m.service}")` });
    if (m.method !== undefined && !METHOD.test(m.method)) ctx.addIssue({ code: "custom", path: ["method"], message: `must be a gRPC method name such as SayHello (got "${m.method}")` });
    return;
  }
  for (const field of ["service", "method"] as const) {
    const value = m[field];
    const issue = value === undefined ? null : regexIssue(value);
    if (issue) ctx.addIssue({ code: "custom", path: [field], message: issue });
  }
}));

const headerMatchSchema = strictObject({ type: z._default(z.enum(["Exact", "RegularExpression"]), "Exact"), name: z.pipe(headerNameSchema, z.transform((n) => n.toLowerCase())), value: z.string().check(z.maxLength(4096)) }).check(z.superRefine((h, ctx) => {
  if (h.type !== "RegularExpression") return;
  const issue = regexIssue(h.value);
  if (issue) ctx.addIssue({ code: "custom", path: ["value"], message: issue });
}));

const matchSchema = strictObject({ method: z.optional(methodMatchSchema), headers: z._default(z.array(headerMatchSchema).check(z.maxLength(16)), []) });

const ruleSchema = strictObject({
  name: z.optional(z.string().check(z.minLength(1), z.maxLength(253))),
  matches: z._default(z.array(matchSchema).check(z.maxLength(64)), []),
  filters: z._default(z.array(grpcFilterSchema).check(z.maxLength(16)), []),
  backendRefs: z._default(z.array(z.extend(backendObjectRefSchema, { weight: z._default(z.number().check(z.int(), z.gte(0), z.lte(1_000_000)), 1), filters: z._default(z.array(grpcFilterSchema).check(z.maxLength(16)), []) })).check(z.maxLength(16)), []),
}).check(z.superRefine((rule, ctx) => {
  checkFilterList(rule.filters, ctx, ["filters"], false);
  rule.backendRefs.forEach((ref, i) => checkFilterList(ref.filters, ctx, ["backendRefs", i, "filters"], true));
}));

/** Gateway API v1 GRPCRoute, accepted verbatim. */
export const grpcRouteSchema = strictObject({
  apiVersion: z.literal("gateway.networking.k8s.io/v1"),
  kind: z.literal("GRPCRoute"),
  metadata: metadataSchema,
  spec: strictObject({
    parentRefs: z._default(z.array(strictObject({ group: z.optional(z.string()), kind: z.optional(z.string()), namespace: z.optional(z.string()), name: z.string(), sectionName: z.optional(z.string()), port: z.optional(portSchema) })).check(z.maxLength(32)), []),
    hostnames: z._default(z.array(hostnameSchema).check(z.maxLength(16)), []),
    rules: z._default(z.array(ruleSchema).check(z.maxLength(16)), [{ matches: [], filters: [], backendRefs: [] }]),
  }),
  status: z.optional(z.unknown()),
});

export type GRPCRoute = z.output<typeof grpcRouteSchema>;
export type GRPCMethodMatch = z.output<typeof methodMatchSchema>;

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
