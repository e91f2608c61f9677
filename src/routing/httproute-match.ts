import * as z from "zod";
import { headerNameSchema, regexIssue } from "../policy/common.js";
import { strictObject } from "../policy/strict-object.js";

const pathMatchSchema = strictObject({
    type: z.enum(["Exact", "PathPrefix", "RegularExpression"]).default("PathPrefix"),
    value: z.string().max(1024).default("/"),
  })
  .superRefine((p, ctx) => {
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
  });

const valueMatchSchema = (name: z.ZodType<string>) =>
  strictObject({ type: z.enum(["Exact", "RegularExpression"]).default("Exact"), name, value: z.string().max(4096) })
    .superRefine((m, ctx) => {
      if (m.type !== "RegularExpression") return;
      const issue = regexIssue(m.value);
      if (issue) ctx.addIssue({ code: "custom", path: ["value"], message: issue });
    });

const headerMatchSchema = valueMatchSchema(headerNameSchema.transform((n) => n.toLowerCase()));
const queryMatchSchema = valueMatchSchema(z.string().min(1).max(256));

function uniqueNames(list: readonly { name: string }[], field: string, ctx: z.RefinementCtx, caseInsensitive: boolean) {
  const seen = new Set<string>();
  list.forEach((m, i) => {
    const key = caseInsensitive ? m.name.toLowerCase() : m.name;
    if (seen.has(key)) ctx.addIssue({ code: "custom", path: [field, i, "name"], message: `duplicate ${field === "headers" ? "header" : "query parameter"} match "${m.name}"` });
    seen.add(key);
  });
}

export const httpRouteMatchSchema = strictObject({
    path: pathMatchSchema.default({ type: "PathPrefix", value: "/" }),
    headers: z.array(headerMatchSchema).max(16).default([]),
    queryParams: z.array(queryMatchSchema).max(16).default([]),
    method: z.enum(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]).optional(),
  })
  .superRefine((m, ctx) => {
    uniqueNames(m.headers, "headers", ctx, true);
    uniqueNames(m.queryParams, "queryParams", ctx, false);
  });

export type HTTPRouteMatch = z.output<typeof httpRouteMatchSchema>;
export type HTTPPathMatch = HTTPRouteMatch["path"];
export type HTTPHeaderMatch = HTTPRouteMatch["headers"][number];
export type HTTPQueryParamMatch = HTTPRouteMatch["queryParams"][number];
