import * as z from "../policy/zod.js";
import { backendObjectRefSchema, headerFieldValueSchema, headerNameSchema, pathValueIssue, portSchema, preciseHostnameSchema } from "../policy/common.js";
import { strictObject } from "../policy/strict-object.js";

const headerValueSchema = strictObject({ name: headerNameSchema, value: headerFieldValueSchema });

const headerModifierSchema = strictObject({
    set: z._default(z.array(headerValueSchema).check(z.maxLength(16)), []),
    add: z._default(z.array(headerValueSchema).check(z.maxLength(16)), []),
    remove: z._default(z.array(headerNameSchema).check(z.maxLength(16)), []),
  }).check(z.superRefine((m, ctx) => {
    for (const field of ["set", "add"] as const) {
      const seen = new Set<string>();
      m[field].forEach((h, i) => {
        if (seen.has(h.name.toLowerCase())) ctx.addIssue({ code: "custom", path: [field, i, "name"], message: `duplicate header "${h.name}" in ${field}` });
        seen.add(h.name.toLowerCase());
      });
    }
  }));

export const pathModifierSchema = strictObject({
    type: z.enum(["ReplaceFullPath", "ReplacePrefixMatch"]),
    replaceFullPath: z.optional(z.string().check(z.maxLength(1024))),
    replacePrefixMatch: z.optional(z.string().check(z.maxLength(1024))),
  }).check(z.superRefine((p, ctx) => {
    const field = p.type === "ReplaceFullPath" ? "replaceFullPath" : "replacePrefixMatch";
    const other = p.type === "ReplaceFullPath" ? "replacePrefixMatch" : "replaceFullPath";
    if (p[field] === undefined) ctx.addIssue({ code: "custom", path: [field], message: `${field} is required when type is ${p.type}` });
    if (p[other] !== undefined) ctx.addIssue({ code: "custom", path: [other], message: `${other} must not be set when type is ${p.type}` });
    const value = p[field];
    if (value !== undefined && value !== "" && !value.startsWith("/")) ctx.addIssue({ code: "custom", path: [field], message: `must start with / (got "${value}")` });
    const chars = value === undefined ? null : pathValueIssue(value);
    if (chars) ctx.addIssue({ code: "custom", path: [field], message: chars });
  }));

const redirectSchema = strictObject({
  scheme: z.optional(z.enum(["http", "https"])),
  hostname: z.optional(preciseHostnameSchema),
  path: z.optional(pathModifierSchema),
  port: z.optional(portSchema),
  statusCode: z._default(z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)], { message: "statusCode must be one of 301, 302, 303, 307, 308" }), 302),
});

const rewriteSchema = strictObject({ hostname: z.optional(preciseHostnameSchema), path: z.optional(pathModifierSchema) });

const mirrorSchema = strictObject({
    backendRef: backendObjectRefSchema,
    percent: z.optional(z.number().check(z.int(), z.gte(0), z.lte(100))),
    fraction: z.optional(strictObject({ numerator: z.number().check(z.int(), z.gte(0), z.lte(1_000_000)), denominator: z._default(z.number().check(z.int(), z.gte(1), z.lte(1_000_000)), 100) }).check(z.refine((f) => f.numerator <= f.denominator, { message: "numerator must not exceed denominator", path: ["numerator"] }))),
  }).check(z.refine((m) => m.percent === undefined || m.fraction === undefined, { message: "percent and fraction are mutually exclusive", path: ["fraction"] }));

const ORIGIN = /^(\*|(https?):\/\/(\*\.)?[a-z0-9.-]+(:[0-9]{1,5})?)$/i;
const corsSchema = strictObject({
  allowOrigins: z._default(z.array(z.string().check(z.regex(ORIGIN, { message: 'must be "*" or an origin such as https://app.example.com or https://*.example.com' }))).check(z.maxLength(64)), []),
  allowMethods: z._default(z.array(z.string().check(z.regex(/^(\*|[A-Z]+)$/, { message: 'must be an HTTP method or "*"' }))).check(z.maxLength(9)), []),
  allowHeaders: z._default(z.array(z.string().check(z.minLength(1))).check(z.maxLength(64)), []),
  exposeHeaders: z._default(z.array(z.string().check(z.minLength(1))).check(z.maxLength(64)), []),
  /** Seconds a preflight answer may be cached; browsers cap it at 2 h (Chromium) or 24 h (Firefox). */
  maxAge: z._default(z.number().check(z.int(), z.gte(1), z.lte(86_400)), 5),
  allowCredentials: z._default(z.boolean(), false),
});

const extensionRefSchema = strictObject({ group: z.string(), kind: z.string().check(z.minLength(1)), name: z.string().check(z.minLength(1)) });

const FILTER_FIELD = {
  RequestHeaderModifier: "requestHeaderModifier",
  ResponseHeaderModifier: "responseHeaderModifier",
  RequestRedirect: "requestRedirect",
  URLRewrite: "urlRewrite",
  RequestMirror: "requestMirror",
  CORS: "cors",
  ExtensionRef: "extensionRef",
} as const;

export const httpRouteFilterSchema = strictObject({
    type: z.enum(["RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect", "URLRewrite", "RequestMirror", "CORS", "ExtensionRef"], {
      message: "type must be one of RequestHeaderModifier, ResponseHeaderModifier, RequestRedirect, URLRewrite, RequestMirror, CORS, ExtensionRef",
    }),
    requestHeaderModifier: z.optional(headerModifierSchema),
    responseHeaderModifier: z.optional(headerModifierSchema),
    requestRedirect: z.optional(redirectSchema),
    urlRewrite: z.optional(rewriteSchema),
    requestMirror: z.optional(mirrorSchema),
    cors: z.optional(corsSchema),
    extensionRef: z.optional(extensionRefSchema),
  }).check(z.superRefine((f, ctx) => {
    // Gateway API CEL: exactly the field named by `type` is set.
    const wanted = FILTER_FIELD[f.type];
    for (const field of Object.values(FILTER_FIELD)) {
      if (field === wanted && f[field] === undefined) ctx.addIssue({ code: "custom", path: [field], message: `${field} is required when type is ${f.type}` });
      if (field !== wanted && f[field] !== undefined) ctx.addIssue({ code: "custom", path: [field], message: `${field} must not be set when type is ${f.type}` });
    }
  }));

export type HTTPRouteFilter = z.output<typeof httpRouteFilterSchema>;
export type HTTPPathModifier = z.output<typeof pathModifierSchema>;

/** Gateway API CEL rules over one filter list; `path` is where the list sits. */
export function checkFilterList(filters: readonly HTTPRouteFilter[], ctx: z.core.$RefinementCtx, path: (string | number)[], onBackend: boolean): void {
  const once = new Set(["RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect", "URLRewrite", "CORS"]);
  const seen = new Set<string>();
  filters.forEach((f, i) => {
    if (once.has(f.type) && seen.has(f.type)) ctx.addIssue({ code: "custom", path: [...path, i, "type"], message: `${f.type} may appear at most once in a filter list` });
    seen.add(f.type);
    if (onBackend && (f.type === "RequestRedirect" || f.type === "CORS")) ctx.addIssue({ code: "custom", path: [...path, i, "type"], message: `${f.type} is not allowed on a backendRef; put it on the rule` });
  });
  if (seen.has("RequestRedirect") && seen.has("URLRewrite")) {
    ctx.addIssue({ code: "custom", path: [...path], message: "RequestRedirect and URLRewrite cannot be used in the same filter list" });
  }
}
