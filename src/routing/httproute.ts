import * as z from "../policy/zod.js";
import { backendObjectRefSchema, hostnameSchema, portSchema } from "../policy/common.js";
import { durationAtMost, durationSchema } from "../policy/duration.js";
import { strictObject } from "../policy/strict-object.js";
import { checkFilterList, httpRouteFilterSchema, type HTTPRouteFilter } from "./httproute-filter.js";
import { httpRouteMatchSchema, type HTTPRouteMatch } from "./httproute-match.js";
import { metadataSchema } from "../policy/meta.js";

const backendRefSchema = z.extend(backendObjectRefSchema, {
  weight: z._default(z.number().check(z.int(), z.gte(0), z.lte(1_000_000)), 1),
  filters: z._default(z.array(httpRouteFilterSchema).check(z.maxLength(16)), []),
});

const DEFAULT_MATCH = { path: { type: "PathPrefix" as const, value: "/" }, headers: [], queryParams: [] };

const ruleSchema = strictObject({
    name: z.optional(z.string().check(z.minLength(1), z.maxLength(253))),
    matches: z.pipe(z.optional(z.array(httpRouteMatchSchema).check(z.maxLength(64))), z.transform((m): HTTPRouteMatch[] => (m === undefined || m.length === 0 ? [DEFAULT_MATCH] : m))),
    filters: z._default(z.array(httpRouteFilterSchema).check(z.maxLength(16)), []),
    backendRefs: z._default(z.array(backendRefSchema).check(z.maxLength(16)), []),
    timeouts: z.optional(strictObject({ request: z.optional(durationAtMost(3_600_000)), backendRequest: z.optional(durationAtMost(3_600_000)) })),
    retry: z.optional(strictObject({
        codes: z.optional(z.array(z.number().check(z.int(), z.gte(400), z.lte(599, { message: "retry codes must be 400-599" })))),
        attempts: z.optional(z.number().check(z.int(), z.gte(0), z.lte(10))),
        backoff: z.optional(durationAtMost(60_000)),
      })),
    sessionPersistence: z.optional(strictObject({
        sessionName: z.optional(z.string().check(z.maxLength(128))),
        absoluteTimeout: z.optional(durationSchema),
        idleTimeout: z.optional(durationSchema),
        type: z._default(z.enum(["Cookie", "Header"]), "Cookie"),
        cookieConfig: z.optional(strictObject({ lifetimeType: z._default(z.enum(["Permanent", "Session"]), "Session") })),
      })),
  }).check(z.superRefine((rule, ctx) => {
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
  }));

export const httpRouteSchema = strictObject({
  apiVersion: z.literal("gateway.networking.k8s.io/v1"),
  kind: z.literal("HTTPRoute"),
  metadata: metadataSchema,
  spec: strictObject({
    parentRefs: z._default(z.array(strictObject({ group: z.optional(z.string()), kind: z.optional(z.string()), namespace: z.optional(z.string()), name: z.string(), sectionName: z.optional(z.string()), port: z.optional(portSchema) })).check(z.maxLength(32)), []),
    hostnames: z._default(z.array(hostnameSchema).check(z.maxLength(16)), []),
    rules: z.pipe(z.optional(z.array(ruleSchema).check(z.maxLength(16))), z.transform((r): z.output<typeof ruleSchema>[] => r ?? [{ matches: [DEFAULT_MATCH], filters: [], backendRefs: [] }])),
  }),
  // Written by controllers, not by authors: accepted so `kubectl get -o yaml` output loads, never read.
  status: z.optional(z.unknown()),
});

export type HTTPRoute = z.output<typeof httpRouteSchema>;
export type HTTPRouteRule = HTTPRoute["spec"]["rules"][number];
export type HTTPBackendRef = HTTPRouteRule["backendRefs"][number];
export type { HTTPRouteFilter, HTTPPathModifier } from "./httproute-filter.js";
export type { HTTPRouteMatch, HTTPHeaderMatch, HTTPQueryParamMatch } from "./httproute-match.js";
