import type { z } from "zod";
import type { PolicyIssue } from "./issues.js";
import type { RawDocument } from "./parse.js";
import { API_GATEWAY, API_MESHGATE, backendSchema, httpRouteSchema, rateLimitPolicySchema, securityPolicySchema, trafficPolicySchema, type Backend, type HTTPRoute, type RateLimitPolicy, type SecurityPolicy, type TrafficPolicy } from "./schema/index.js";

/** A validated document with its origin, ready to compile. */
export interface Located<T> {
  readonly file: string;
  readonly index: number;
  readonly doc: T;
}

export interface PolicySet {
  readonly routes: readonly Located<HTTPRoute>[];
  readonly backends: readonly Located<Backend>[];
  readonly trafficPolicies: readonly Located<TrafficPolicy>[];
  readonly securityPolicies: readonly Located<SecurityPolicy>[];
  readonly rateLimitPolicies: readonly Located<RateLimitPolicy>[];
  readonly issues: readonly PolicyIssue[];
}

/** Kinds we know of but do not act on yet; they are reported, not refused. */
const IGNORED_KINDS = new Set([`${API_GATEWAY}/Gateway`, `${API_GATEWAY}/GatewayClass`, "gateway.networking.k8s.io/v1beta1/ReferenceGrant"]);

/**
 * Checks every document against its kind's schema. Unknown kinds are errors: a security
 * policy that is silently skipped is worse than a refused config.
 */
export function validateDocuments(documents: readonly RawDocument[]): PolicySet {
  const issues: PolicyIssue[] = [];
  const routes: Located<HTTPRoute>[] = [];
  const backends: Located<Backend>[] = [];
  const trafficPolicies: Located<TrafficPolicy>[] = [];
  const securityPolicies: Located<SecurityPolicy>[] = [];
  const rateLimitPolicies: Located<RateLimitPolicy>[] = [];
  const seen = new Map<string, RawDocument>();

  for (const raw of documents) {
    const at = { file: raw.file, index: raw.index };
    const value = raw.value;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      issues.push({ ...at, severity: "error", path: [], message: "a policy document must be a mapping with apiVersion, kind and metadata" });
      continue;
    }
    const { apiVersion, kind } = value as { apiVersion?: unknown; kind?: unknown };
    if (typeof apiVersion !== "string" || typeof kind !== "string") {
      const field = typeof apiVersion !== "string" ? "apiVersion" : "kind";
      issues.push({ ...at, severity: "error", path: [field], message: `required string field is missing` });
      continue;
    }
    const type = `${apiVersion}/${kind}`;
    if (IGNORED_KINDS.has(type)) {
      issues.push({ ...at, severity: "warning", path: ["kind"], message: `${kind} documents are not used by meshgate yet; ignored` });
      continue;
    }
    let parsed: { kind: "route"; doc: HTTPRoute } | { kind: "backend"; doc: Backend } | { kind: "traffic"; doc: TrafficPolicy } | { kind: "security"; doc: SecurityPolicy } | { kind: "rateLimit"; doc: RateLimitPolicy } | null = null;
    if (type === `${API_GATEWAY}/HTTPRoute`) {
      const doc = check(httpRouteSchema, value, at, issues);
      if (doc) parsed = { kind: "route", doc };
    } else if (type === `${API_MESHGATE}/Backend`) {
      const doc = check(backendSchema, value, at, issues);
      if (doc) parsed = { kind: "backend", doc };
    } else if (type === `${API_MESHGATE}/TrafficPolicy`) {
      const doc = check(trafficPolicySchema, value, at, issues);
      if (doc) parsed = { kind: "traffic", doc };
    } else if (type === `${API_MESHGATE}/SecurityPolicy`) {
      const doc = check(securityPolicySchema, value, at, issues);
      if (doc) parsed = { kind: "security", doc };
    } else if (type === `${API_MESHGATE}/RateLimitPolicy`) {
      const doc = check(rateLimitPolicySchema, value, at, issues);
      if (doc) parsed = { kind: "rateLimit", doc };
    } else {
      issues.push({ ...at, severity: "error", path: ["kind"], message: `unknown kind ${kind} in ${apiVersion} (known: ${API_GATEWAY} HTTPRoute, ${API_MESHGATE} Backend, TrafficPolicy, SecurityPolicy and RateLimitPolicy)` });
      continue;
    }
    if (parsed === null) continue;
    const key = `${kind}/${parsed.doc.metadata.namespace}/${parsed.doc.metadata.name}`;
    const previous = seen.get(key);
    if (previous) {
      issues.push({ ...at, severity: "error", path: ["metadata", "name"], message: `duplicate ${kind} ${parsed.doc.metadata.namespace}/${parsed.doc.metadata.name}, first defined in ${previous.file}:document#${previous.index}` });
      continue;
    }
    seen.set(key, raw);
    if (parsed.kind === "route") routes.push({ ...at, doc: parsed.doc });
    else if (parsed.kind === "backend") backends.push({ ...at, doc: parsed.doc });
    else if (parsed.kind === "traffic") trafficPolicies.push({ ...at, doc: parsed.doc });
    else if (parsed.kind === "security") securityPolicies.push({ ...at, doc: parsed.doc });
    else rateLimitPolicies.push({ ...at, doc: parsed.doc });
  }
  return { routes, backends, trafficPolicies, securityPolicies, rateLimitPolicies, issues };
}

function check<S extends z.ZodType>(schema: S, value: unknown, at: { file: string; index: number }, issues: PolicyIssue[]): z.output<S> | null {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    issues.push({ ...at, severity: "error", path: issue.path.map((p) => (typeof p === "symbol" ? String(p) : p)), message: issue.message });
  }
  return null;
}
