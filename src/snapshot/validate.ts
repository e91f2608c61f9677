import type * as z from "../policy/zod.js";
import type { PolicyIssue } from "../policy/issues.js";
import type { ParseCache, RawDocument } from "../policy/parse.js";
import { API_GATEWAY, API_MESHGATE } from "../policy/api-versions.js";
import { backendSchema, type Backend } from "../upstream/backend.js";
import { gatewaySchema, type Gateway } from "../routing/gateway.js";
import { httpRouteSchema, type HTTPRoute } from "../routing/httproute.js";
import { grpcRouteSchema } from "../routing/grpcroute.js";
import { grpcToHttpRoute } from "../routing/grpc-translate.js";
import { rateLimitPolicySchema, type RateLimitPolicy } from "../ratelimit/rate-limit-policy.js";
import { securityPolicySchema, type SecurityPolicy } from "../identity/security-policy.js";
import { trafficPolicySchema, type TrafficPolicy } from "../resilience/traffic-policy.js";
import { serviceSchema, type Service } from "../upstream/service.js";
import { backendTrafficPolicySchema, type BackendTrafficPolicy } from "../upstream/backend-traffic-policy.js";
import { backendTlsPolicySchema, configMapSchema, type BackendTLSPolicy, type ConfigMap } from "../upstream/backend-tls-policy.js";
import { Located } from "../policy/located.js";
import { zodIssuesToPolicy } from "../policy/zod-issues.js";
import { noteGrpcTranslation } from "./grpc-origin.js";

export interface PolicySet {
  readonly routes: readonly Located<HTTPRoute>[];
  /** Gateway documents; when there are any, routes attach to their listeners through parentRefs. */
  readonly gateways: readonly Located<Gateway>[];
  readonly backends: readonly Located<Backend>[];
  readonly trafficPolicies: readonly Located<TrafficPolicy>[];
  readonly securityPolicies: readonly Located<SecurityPolicy>[];
  readonly rateLimitPolicies: readonly Located<RateLimitPolicy>[];
  /** Kubernetes `v1 Service` documents: read for their ports (port, targetPort, appProtocol). */
  readonly services: readonly Located<Service>[];
  /** Backend settings written for a Service (meshgate BackendTrafficPolicy, Gateway API BackendTLSPolicy). */
  readonly backendTrafficPolicies: readonly Located<BackendTrafficPolicy>[];
  readonly backendTlsPolicies: readonly Located<BackendTLSPolicy>[];
  /** Kubernetes ConfigMaps: read only where a BackendTLSPolicy names one. */
  readonly configMaps: readonly Located<ConfigMap>[];
  readonly issues: readonly PolicyIssue[];
}

/** Istio API groups: their documents are translated by `meshgate import istio`, never served. */
const ISTIO_GROUPS = new Set(["networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io"]);

/** API groups whose kinds meshgate owns: an unknown kind there is a typo or a feature we lack, so an error. */
const OWN_GROUPS = new Set(["meshgate.dev", "gateway.networking.k8s.io"]);

/** Older Gateway API versions still in many docs, read as v1 (the fields meshgate reads did not change). */
const OLDER_VERSIONS = new Map([["gateway.networking.k8s.io/v1beta1/HTTPRoute", API_GATEWAY]]);

/** Kinds we know of but do not act on yet; they are reported, not refused. */
const IGNORED_KINDS = new Set([`${API_GATEWAY}/GatewayClass`, "gateway.networking.k8s.io/v1beta1/ReferenceGrant"]);

/**
 * Checks every document against its kind's schema. Unknown kinds are errors: a security
 * policy that is silently skipped is worse than a refused config.
 */
export function validateDocuments(documents: readonly RawDocument[], cache?: ParseCache): PolicySet {
  const issues: PolicyIssue[] = [];
  const set = { gateways: [] as Located<Gateway>[], routes: [] as Located<HTTPRoute>[], backends: [] as Located<Backend>[], trafficPolicies: [] as Located<TrafficPolicy>[], securityPolicies: [] as Located<SecurityPolicy>[], rateLimitPolicies: [] as Located<RateLimitPolicy>[], services: [] as Located<Service>[], backendTrafficPolicies: [] as Located<BackendTrafficPolicy>[], backendTlsPolicies: [] as Located<BackendTLSPolicy>[], configMaps: [] as Located<ConfigMap>[] };
  // One entry per kind: its schema, and where its validated documents go.
  const kinds = new Map<string, (value: unknown, at: { file: string; index: number }) => { metadata: { namespace: string; name: string } } | null>([
    [`${API_GATEWAY}/HTTPRoute`, (v, at) => keep(set.routes, check(cache, httpRouteSchema, v, at, issues), at)],
    // A GRPCRoute is validated as itself, then routed as the HTTPRoute it means (routing/grpcroute.ts).
    [`${API_GATEWAY}/GRPCRoute`, (v, at) => {
      const grpc = check(cache, grpcRouteSchema, v, at, issues);
      if (grpc === null) return null;
      const http = grpcToHttpRoute(grpc);
      noteGrpcTranslation(http, grpc);
      return keep(set.routes, http, at);
    }],
    [`${API_GATEWAY}/Gateway`, (v, at) => keep(set.gateways, check(cache, gatewaySchema, v, at, issues), at)],
    [`${API_MESHGATE}/Backend`, (v, at) => keep(set.backends, check(cache, backendSchema, v, at, issues), at)],
    [`${API_MESHGATE}/TrafficPolicy`, (v, at) => keep(set.trafficPolicies, check(cache, trafficPolicySchema, v, at, issues), at)],
    [`${API_MESHGATE}/SecurityPolicy`, (v, at) => keep(set.securityPolicies, check(cache, securityPolicySchema, v, at, issues), at)],
    [`${API_MESHGATE}/RateLimitPolicy`, (v, at) => keep(set.rateLimitPolicies, check(cache, rateLimitPolicySchema, v, at, issues), at)],
    ["v1/Service", (v, at) => keep(set.services, check(cache, serviceSchema, v, at, issues), at)],
    ["v1/ConfigMap", (v, at) => keep(set.configMaps, check(cache, configMapSchema, v, at, issues), at)],
    [`${API_MESHGATE}/BackendTrafficPolicy`, (v, at) => keep(set.backendTrafficPolicies, check(cache, backendTrafficPolicySchema, v, at, issues), at)],
    [`${API_GATEWAY}/BackendTLSPolicy`, (v, at) => keep(set.backendTlsPolicies, check(cache, backendTlsPolicySchema, v, at, issues), at)],
  ]);
  const seen = new Map<string, RawDocument>();
  // Kubernetes kinds meshgate has no use for (Deployment, ServiceAccount, …): one info line per kind.
  const skipped = new Map<string, { at: { file: string; index: number }; count: number }>();

  for (const raw of documents) {
    const at = { file: raw.file, index: raw.index };
    let value = raw.value;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      issues.push({ ...at, severity: "error", path: [], message: "a policy document must be a mapping with apiVersion, kind and metadata" });
      continue;
    }
    const written = value as { apiVersion?: unknown; kind?: unknown };
    const kind = written.kind;
    if (typeof written.apiVersion !== "string" || typeof kind !== "string") {
      const field = typeof written.apiVersion !== "string" ? "apiVersion" : "kind";
      issues.push({ ...at, severity: "error", path: [field], message: `required string field is missing` });
      continue;
    }
    const apiVersion = OLDER_VERSIONS.get(`${written.apiVersion}/${kind}`) ?? written.apiVersion;
    if (apiVersion !== written.apiVersion) value = { ...value, apiVersion };
    const type = `${apiVersion}/${kind}`;
    if (IGNORED_KINDS.has(type)) {
      issues.push({ ...at, severity: "warning", path: ["kind"], message: `${kind} documents are not used by meshgate yet; ignored` });
      continue;
    }
    const accept = kinds.get(type);
    if (accept === undefined && ISTIO_GROUPS.has(group(apiVersion))) {
      issues.push({ ...at, severity: "error", path: ["kind"], message: `Istio ${kind} is not served directly; translate it with: meshgate import istio ${raw.file}` });
      continue;
    }
    if (accept === undefined && !OWN_GROUPS.has(group(apiVersion))) {
      const entry = skipped.get(type);
      if (entry === undefined) skipped.set(type, { at, count: 1 });
      else entry.count++;
      continue;
    }
    if (accept === undefined) {
      issues.push({ ...at, severity: "error", path: ["kind"], message: `unknown kind ${kind} in ${apiVersion} (known: ${API_GATEWAY} HTTPRoute, Gateway and BackendTLSPolicy, ${API_MESHGATE} Backend, TrafficPolicy, SecurityPolicy, RateLimitPolicy and BackendTrafficPolicy, v1 Service and ConfigMap)` });
      continue;
    }
    // Duplicates are checked before the document is kept, so the first definition wins.
    const meta = (value as { metadata?: { name?: unknown; namespace?: unknown } }).metadata;
    const key = `${kind}/${typeof meta?.namespace === "string" ? meta.namespace : "default"}/${String(meta?.name)}`;
    const previous = seen.get(key);
    if (previous && typeof meta?.name === "string") {
      issues.push({ ...at, severity: "error", path: ["metadata", "name"], message: `duplicate ${kind} ${key.slice(kind.length + 1)}, first defined in ${previous.file}:document#${previous.index}` });
      continue;
    }
    if (accept(value, at) !== null) seen.set(key, raw);
  }
  for (const [type, { at, count }] of skipped) {
    const slash = type.lastIndexOf("/");
    const documents = count === 1 ? "1 document" : `${count} documents`;
    issues.push({ ...at, severity: "info", path: ["kind"], message: `${type.slice(0, slash)} ${type.slice(slash + 1)} is not a meshgate kind; skipped (${documents})` });
  }
  return { ...set, issues };
}

export { grpcRouteOf } from "./grpc-origin.js";

/** The API group of an apiVersion: "apps" of "apps/v1", "" (core) of "v1". */
function group(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash === -1 ? "" : apiVersion.slice(0, slash);
}

function keep<T>(list: Located<T>[], doc: T | null, at: { file: string; index: number }): T | null {
  if (doc !== null) list.push({ ...at, doc });
  return doc;
}

function check<S extends z.ZodMiniType>(cache: ParseCache | undefined, schema: S, value: unknown, at: { file: string; index: number }, issues: PolicyIssue[]): z.output<S> | null {
  // The cache keys on the parsed value itself: an unchanged document is the same object (parse-cache.ts).
  const result = cache !== undefined && typeof value === "object" && value !== null ? cache.validation<ReturnType<typeof schema.safeParse>>(value, () => schema.safeParse(value)) : schema.safeParse(value);
  if (result.success) return result.data;
  issues.push(...zodIssuesToPolicy(result.error.issues, at));
  return null;
}
