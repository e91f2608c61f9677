import * as z from "zod";
import { backendObjectRefSchema, hostnameSchema, portSchema } from "../policy/common.js";
import { durationAtMost, durationSchema } from "../policy/duration.js";
import { strictObject } from "../policy/strict-object.js";
import { checkFilterList, httpRouteFilterSchema, type HTTPRouteFilter } from "./httproute-filter.js";
import { httpRouteMatchSchema, type HTTPRouteMatch } from "./httproute-match.js";
import { metadataSchema } from "../policy/meta.js";

const backendRefSchema = backendObjectRefSchema.extend({
  weight: z.number().int().min(0).max(1_000_000).default(1),
  filters: z.array(httpRouteFilterSchema).max(16).default([]),
});

const DEFAULT_MATCH = { path: { type: "PathPrefix" as const, value: "/" }, headers: [], queryParams: [] };

const ruleSchema = strictObject({
    name: z.string().min(1).max(253).optional(),
    matches: z
      .array(httpRouteMatchSchema)
      .max(64)
      .optional()
      .transform((m): HTTPRouteMatch[] => (m === undefined || m.length === 0 ? [DEFAULT_MATCH] : m)),
    filters: z.array(httpRouteFilterSchema).max(16).default([]),
    backendRefs: z.array(backendRefSchema).max(16).default([]),
    timeouts: strictObject({ request: durationAtMost(3_600_000).optional(), backendRequest: durationAtMost(3_600_000).optional() }).optional(),
    retry: strictObject({
        codes: z.array(z.number().int().min(400).max(599, { message: "retry codes must be 400-599" })).optional(),
        attempts: z.number().int().min(0).max(10).optional(),
        backoff: durationAtMost(60_000).optional(),
      })
      .optional(),
    sessionPersistence: strictObject({
        sessionName: z.string().max(128).optional(),
        absoluteTimeout: durationSchema.optional(),
        idleTimeout: durationSchema.optional(),
        type: z.enum(["Cookie", "Header"]).default("Cookie"),
        cookieConfig: strictObject({ lifetimeType: z.enum(["Permanent", "Session"]).default("Session") }).optional(),
      })
      .optional(),
  })
  .superRefine((rule, ctx) => {
    checkFilterList(rule.filters, ctx, ["filters"], false);
    rule.backendRefs.forEach((ref, i) => checkFilterList(ref.filters, ctx, ["backendRefs", i, "filters"], true));
    const t = rule.timeouts;
    if (t?.request !== undefined && t.backendRequest !== undefined && t.request > 0 && t.backendRequest > t.request) {
      ctx.addIssue({ code: "custom", path: ["timeouts", "backendRequest"], message: "backendRequest timeout must not exceed the request timeout" });
    }
    // ReplacePrefixMatch needs a prefix to replace: every match of the rule must be a PathPrefix.
    const usesPrefix = (list: readonly HTTPRouteFilter[]) =>
      list.findIndex((f) => f.requestRedirect?.path?.type === "ReplacePrefixMatch" || f.urlRewrite?.path?.type === "ReplacePrefixMatch");
    const i = usesPrefix(rule.filters);
    if (i !== -1 && rule.matches.some((m) => m.path.type !== "PathPrefix")) {
      ctx.addIssue({ code: "custom", path: ["filters", i], message: "ReplacePrefixMatch requires every match of the rule to use a PathPrefix path match" });
    }
  });

export const httpRouteSchema = strictObject({
  apiVersion: z.literal("gateway.networking.k8s.io/v1"),
  kind: z.literal("HTTPRoute"),
  metadata: metadataSchema,
  spec: strictObject({
    parentRefs: z
      .array(strictObject({ group: z.string().optional(), kind: z.string().optional(), namespace: z.string().optional(), name: z.string(), sectionName: z.string().optional(), port: portSchema.optional() }))
      .max(32)
      .default([]),
    hostnames: z.array(hostnameSchema).max(16).default([]),
    rules: z
      .array(ruleSchema)
      .max(16)
      .optional()
      .transform((r): z.output<typeof ruleSchema>[] => r ?? [{ matches: [DEFAULT_MATCH], filters: [], backendRefs: [] }]),
  }),
  // Written by controllers, not by authors: accepted so `kubectl get -o yaml` output loads, never read.
  status: z.unknown().optional(),
});

export type HTTPRoute = z.output<typeof httpRouteSchema>;
export type HTTPRouteRule = HTTPRoute["spec"]["rules"][number];
export type HTTPBackendRef = HTTPRouteRule["backendRefs"][number];
export type { HTTPRouteFilter, HTTPPathModifier } from "./httproute-filter.js";
export type { HTTPRouteMatch, HTTPHeaderMatch, HTTPQueryParamMatch } from "./httproute-match.js";
