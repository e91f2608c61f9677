import * as z from "../policy/zod.js";
import { headerNameSchema, regexIssue } from "../policy/common.js";
import { strictObject } from "../policy/strict-object.js";

const pathMatchSchema = strictObject({
    type: z._default(z.enum(["Exact", "PathPrefix", "RegularExpression"]), "PathPrefix"),
    value: z._default(z.string().check(z.maxLength(1024)), "/"),
  }).check(z.superRefine((p, ctx) => {
    if (p.type === "RegularExpression") {
      const issue = regexIssue(p.value);
      if (issue) ctx.addIssue({ code: "custom", path: ["value"], message: issue });
      return;
    }
    const problem = !p.value.startsWith("/")
      ? "must start with /"
      : p.value.includes("//")
        ? "must not contain //"
        : /\/\.\.?(\/|$)/.test(p.value)
          ? "must not contain /./ or /../ segments"
          : /%2f/i.test(p.value)
            ? "must not contain an encoded slash (%2F)"
            : /[#?]/.test(p.value)
              ? "must not contain # or ?"
              : null;
    if (problem) ctx.addIssue({ code: "custom", path: ["value"], message: `${p.type} path ${problem} (got "${p.value}")` });
  }));

const valueMatchSchema = (name: z.ZodMiniType<string>) =>
  strictObject({ type: z._default(z.enum(["Exact", "RegularExpression"]), "Exact"), name, value: z.string().check(z.maxLength(4096)) }).check(z.superRefine((m, ctx) => {
      if (m.type !== "RegularExpression") return;
      const issue = regexIssue(m.value);
      if (issue) ctx.addIssue({ code: "custom", path: ["value"], message: issue });
    }));

const headerMatchSchema = valueMatchSchema(z.pipe(headerNameSchema, z.transform((n) => n.toLowerCase())));
const queryMatchSchema = valueMatchSchema(z.string().check(z.minLength(1), z.maxLength(256)));

function uniqueNames(list: readonly { name: string }[], field: string, ctx: z.core.$RefinementCtx, caseInsensitive: boolean) {
  const seen = new Set<string>();
  list.forEach((m, i) => {
    const key = caseInsensitive ? m.name.toLowerCase() : m.name;
    if (seen.has(key)) ctx.addIssue({ code: "custom", path: [field, i, "name"], message: `duplicate ${field === "headers" ? "header" : "query parameter"} match "${m.name}"` });
    seen.add(key);
  });
}

export const httpRouteMatchSchema = strictObject({
    path: z._default(pathMatchSchema, { type: "PathPrefix", value: "/" }),
    headers: z._default(z.array(headerMatchSchema).check(z.maxLength(16)), []),
    queryParams: z._default(z.array(queryMatchSchema).check(z.maxLength(16)), []),
    method: z.optional(z.enum(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"])),
  }).check(z.superRefine((m, ctx) => {
    uniqueNames(m.headers, "headers", ctx, true);
    uniqueNames(m.queryParams, "queryParams", ctx, false);
  }));

export type HTTPRouteMatch = z.output<typeof httpRouteMatchSchema>;
export type HTTPPathMatch = HTTPRouteMatch["path"];
export type HTTPHeaderMatch = HTTPRouteMatch["headers"][number];
export type HTTPQueryParamMatch = HTTPRouteMatch["queryParams"][number];
