import * as z from "../policy/zod.js";
import { backendObjectRefSchema, headerNameSchema, hostnameSchema, portSchema, regexIssue } from "../policy/common.js";
import { strictObject } from "../policy/strict-object.js";
import { metadataSchema } from "../policy/meta.js";
import { checkFilterList, httpRouteFilterSchema } from "./httproute-filter.js";

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
