import { z } from "zod";
import { strictObject } from "./strict-object.js";

/** RFC 7230 token: what a header name may be. */
export const headerNameSchema = z.string().min(1).max(256).regex(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/, { message: "must be a valid HTTP header name" });

/** A precise hostname (no wildcard, no port, no IP check beyond shape). */
export const preciseHostnameSchema = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i, { message: "must be a hostname such as api.example.com (no port, no wildcard)" })
  .transform((h) => h.toLowerCase());

/** A route hostname: precise, or one leading wildcard label (`*.example.com`). */
export const hostnameSchema = z
  .string()
  .max(253)
  .regex(/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i, { message: "must be a hostname such as api.example.com or *.example.com (no port, no IP)" })
  .refine((h) => !/^[0-9.]+$/.test(h), { message: "IP addresses are not allowed as hostnames" })
  .transform((h) => h.toLowerCase());

export const portSchema = z.number().int().min(1).max(65535);

/** A reference to a backend object (Service by default). */
export const backendObjectRefSchema = strictObject({
  group: z.string().default(""),
  kind: z.string().default("Service"),
  name: z.string().min(1).max(253),
  namespace: z.string().min(1).max(63).optional(),
  port: portSchema.optional(),
});

/** Why a policy regex cannot run on the RE2 engine (backreference, lookaround, bad syntax), or null. */
export { safeRegexIssue as regexIssue } from "./safe-regex.js";
