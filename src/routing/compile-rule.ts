import type { PolicyIssue } from "../policy/issues.js";
import type { HTTPRoute, HTTPRouteRule } from "./httproute.js";
import type { CompiledBackend } from "../upstream/compiled-backend.js";
import type { CompiledBackendRef, CompiledRule, DestinationPolicies, MirrorTarget, SessionPersistencePolicy } from "./compiled-rule.js";
import type { RetryPolicy } from "../resilience/policies.js";
import type { Located } from "../policy/located.js";
import { weightedChoice } from "../upstream/weighted.js";
import { fnv1a } from "../http/text-hash.js";
import { NO_FILTERS, compileFilters } from "./compile-filters.js";
import { compileMatch } from "./compile-match.js";
import type { RuleTraffic, TrafficLookup } from "../resilience/compile-traffic.js";
import type { CompiledSecurity } from "../identity/compiled-security.js";
import type { CompiledRateLimit } from "../ratelimit/compiled.js";
import type { ForwardPolicy } from "../upstream/forward-policy.js";
import type { SecurityLookup } from "../identity/compile-security.js";
import type { RateLimitLookup } from "../ratelimit/compile-rate-limit.js";
import type { RouteEntry } from "./compiled-rule.js";
import type { ServicePorts } from "./service-ports.js";
import { withProtocol } from "../upstream/backend-port.js";
import { grpcRankOf } from "./grpc-translate.js";
import type { UpstreamProtocol } from "../upstream/app-protocol.js";
import type { MeshRef } from "./mesh.js";

export interface RuleContext {
  readonly backends: Pick<ReadonlyMap<string, CompiledBackend>, "get">;
  /** Kubernetes Services by "namespace/name": a backendRef's port picks targetPort and appProtocol. */
  readonly services?: Pick<ServicePorts, "resolve" | "discover">;
  readonly issues: PolicyIssue[];
  readonly traffic: TrafficLookup<HTTPRoute>;
  readonly security: SecurityLookup<HTTPRoute>;
  readonly rateLimit: RateLimitLookup<HTTPRoute>;
  /** Every backend of these rules speaks this, whatever the Backend says (GRPCRoute: h2). */
  readonly protocol?: UpstreamProtocol;
  /** Policies that target a Service ("namespace/name"), or null when none does. */
  readonly destination?: (service: string) => ServicePolicies | null;
}

/** The Service-targeted policies of one Service, as compiled once per snapshot. */
export interface ServicePolicies {
  readonly security: CompiledSecurity | null;
  readonly rateLimit: CompiledRateLimit | null;
  readonly traffic: RuleTraffic | null;
}

interface BackendRefLike {
  readonly name: string;
  readonly namespace?: string | undefined;
  readonly group?: string | undefined;
  readonly kind?: string | undefined;
  readonly port?: number | undefined;
}

/**
 * One HTTPRoute into its compiled rules and their precedence entries. `hostnames`: the patterns
 * the route serves as an ingress route (its own, or as attached to Gateway listeners; null = every
 * host). `mesh`: the Services it serves through Service parentRefs. Each rule compiles once and
 * is shared by all of them.
 */
export function compileRoute(located: Located<HTTPRoute>, ctx: RuleContext, hostnames: readonly (string | null)[], mesh: readonly MeshRef[] = []): RouteEntry[] {
  const route = located.doc;
  const { namespace, name } = route.metadata;
  const key = `${namespace}/${name}`;
  const created = route.metadata.creationTimestamp ?? "";
  const entries: RouteEntry[] = [];
  route.spec.rules.forEach((rule, ruleIndex) => {
    const compiled = compileRule(located, rule, ruleIndex, ctx);
    rule.matches.forEach((m, matchIndex) => {
      const grpc = grpcRankOf(m);
      const match = grpc === undefined ? compileMatch(m) : { ...compileMatch(m), grpc };
      const age = { created, key, rule: ruleIndex, match: matchIndex };
      for (const hostPattern of hostnames) entries.push({ rule: compiled, hostPattern, ...match, age });
      // Mesh hostnames narrow nothing: the Service is the host.
      for (const ref of mesh) entries.push({ rule: compiled, hostPattern: ref.host, ...match, age, mesh: ref });
    });
  });
  return entries;
}

function compileRule(located: Located<HTTPRoute>, rule: HTTPRouteRule, ruleIndex: number, ctx: RuleContext): CompiledRule {
  const route = located.doc;
  const { namespace, name } = route.metadata;
  const at = { file: located.file, index: located.index, issues: ctx.issues };
  const rulePath = ["spec", "rules", ruleIndex];
  const filters = rule.filters?.length ? compileFilters(rule.filters, { ...at, path: [...rulePath, "filters"] }) : NO_FILTERS;
  const resolve = (ref: BackendRefLike, path: (string | number)[]) => resolveBackend(ref, namespace, path, located, ctx);

  const traffic = ctx.traffic(route, rule.name);
  const own: ForwardPolicy = {
    id: `${namespace}/${name}/${rule.name ?? `rule-${ruleIndex}`}`,
    requestTimeoutMs: rule.timeouts?.request ?? null,
    backendTimeoutMs: traffic?.perTryTimeoutMs ?? rule.timeouts?.backendRequest ?? null,
    // A TrafficPolicy's retry replaces the route's own `retry` field.
    retry: traffic?.retry ?? (rule.retry ? routeRetry(rule.retry) : null),
    hedge: traffic?.hedge ?? null,
  };
  const backendRefs: CompiledBackendRef[] = (rule.backendRefs ?? []).map((ref, i) => {
    const path = [...rulePath, "backendRefs", i];
    const refFilters = ref.filters?.length ? compileFilters(ref.filters, { ...at, path: [...path, "filters"] }) : NO_FILTERS;
    const key = `${ref.namespace ?? namespace}/${ref.name}`;
    const isService = (ref.group ?? "") === "" && (ref.kind ?? "Service") === "Service";
    return {
      key,
      destination: isService ? destinationOf(key, ctx, own, traffic) : null,
      weight: ref.weight ?? 1,
      backend: resolve(ref, path),
      requestFilters: refFilters.request,
      responseFilters: refFilters.response,
    };
  });
  const mirrors: MirrorTarget[] = filters.mirrors.map((m, i) => ({
    backend: resolve(m.ref, [...rulePath, "filters", i, "requestMirror", "backendRef"]),
    fraction: m.fraction,
  }));
  const choice = weightedChoice(backendRefs, (r) => r.weight);
  if (choice.kind === "empty" && filters.terminal === null && filters.preflight === null) {
    ctx.issues.push({ file: located.file, index: located.index, severity: "warning", path: [...rulePath, "backendRefs"], message: "rule has no backendRef with weight above zero; its requests answer 500" });
  }
  return {
    id: own.id,
    route: { namespace, name },
    ruleIndex,
    preflight: filters.preflight,
    requestFilters: filters.request,
    redirect: filters.terminal,
    mirrors,
    responseFilters: filters.response,
    backends: choice.kind === "empty" ? null : choice,
    backendRefs,
    requestTimeoutMs: own.requestTimeoutMs,
    backendTimeoutMs: own.backendTimeoutMs,
    retry: own.retry,
    hedge: own.hedge,
    fault: traffic?.fault ?? null,
    affinity: traffic?.affinity ?? null,
    maxRequestBodyBytes: traffic?.maxRequestBodyBytes ?? null,
    persistence: rule.sessionPersistence ? compilePersistence(rule.sessionPersistence, `${namespace}/${name}/${ruleIndex}`, backendRefs) : null,
    trafficPolicy: traffic?.name ?? null,
    security: ctx.security(route, rule.name),
    rateLimit: ctx.rateLimit(route, rule.name),
  };
}

/**
 * The Service-targeted policies a ref carries. Security and rate limits add to the route's;
 * a Service's TrafficPolicy fills only what the rule leaves unset (the route is more specific).
 */
export function destinationOf(service: string, ctx: Pick<RuleContext, "destination">, own: ForwardPolicy, routeTraffic: RuleTraffic | null): DestinationPolicies | null {
  const policies = ctx.destination?.(service) ?? null;
  if (policies === null) return null;
  const t = policies.traffic;
  const forward: ForwardPolicy = t === null ? own : {
    id: own.id,
    requestTimeoutMs: own.requestTimeoutMs,
    backendTimeoutMs: own.backendTimeoutMs ?? t.perTryTimeoutMs,
    retry: own.retry ?? t.retry,
    hedge: own.hedge ?? t.hedge,
    // A Service's sessionAffinity keeps a client on one of the Service's endpoints (Istio's consistentHash).
    endpointHash: t.affinity,
  };
  return {
    service,
    security: policies.security,
    rateLimit: policies.rateLimit,
    trafficPolicy: t?.name ?? null,
    fault: routeTraffic?.fault != null || t === null ? null : t.fault,
    maxRequestBodyBytes: t?.maxRequestBodyBytes ?? null,
    forward,
  };
}

/**
 * Gateway API `retry`: the listed codes plus connection errors (refused, or reset after the
 * backend read the request) and backend timeouts, any method (the route author opted in),
 * bounded by a retry budget of 20% of requests + 100/s per Backend. Connection errors left
 * after the attempts answer 503.
 */
function routeRetry(retry: NonNullable<HTTPRouteRule["retry"]>): RetryPolicy {
  const base = retry.backoff ?? 25;
  return {
    attempts: retry.attempts ?? 2,
    codes: new Set(retry.codes ?? []),
    onConnectFailure: true,
    onReset: true,
    onTimeout: true,
    backoffMs: base,
    backoffMaxMs: base * 10,
    // The author wrote how many attempts a request gets: the budget is only a storm guard, roomy
    // enough that concurrent requests each get theirs (a TrafficPolicy sets a tighter one).
    budget: { ratio: 0.2, minPerSecond: 100 },
    nonIdempotent: true,
    maxBufferBytes: 64 * 1024,
  };
}

/**
 * A backendRef without kind (a Kubernetes Service) or of kind meshgate.dev Backend resolves
 * to the Backend of that name in the ref's namespace, else the route's. Anything else is
 * unresolvable: a warning now, a 500 for its share of traffic (Gateway API).
 */
function resolveBackend(ref: BackendRefLike, routeNamespace: string, path: (string | number)[], located: Located<HTTPRoute>, ctx: RuleContext): CompiledBackend | null {
  const group = ref.group ?? "";
  const kind = ref.kind ?? "Service";
  const key = `${ref.namespace ?? routeNamespace}/${ref.name}`;
  const supported = (group === "" && kind === "Service") || (group === "meshgate.dev" && kind === "Backend");
  const backend = supported ? ctx.backends.get(key) : undefined;
  if (backend && ctx.services !== undefined) {
    const viaService = ctx.services.resolve(key, backend, ref.port, group === "");
    if (typeof viaService === "string") ctx.issues.push({ file: located.file, index: located.index, severity: "warning", path: [...path, "port"], message: viaService });
    return typeof viaService === "string" ? null : withProtocol(viaService, ctx.protocol);
  }
  if (backend) return withProtocol(backend, ctx.protocol);
  const found = supported && group === "" ? (ctx.services?.discover(key, ref.port) ?? null) : null;
  if (found !== null && typeof found !== "string") return withProtocol(found, ctx.protocol);
  if (typeof found === "string") {
    ctx.issues.push({ file: located.file, index: located.index, severity: "warning", path: [...path, "port"], message: found });
    return null;
  }
  const message = supported
    ? `backendRef ${key} does not resolve: no Backend named ${ref.name} in namespace ${ref.namespace ?? routeNamespace}; its share of traffic answers 500`
    : `backendRef kind ${group === "" ? "" : `${group}/`}${kind} is not supported; its share of traffic answers 500`;
  ctx.issues.push({ file: located.file, index: located.index, severity: "warning", path: [...path, "name"], message });
  return null;
}

function compilePersistence(spec: NonNullable<HTTPRouteRule["sessionPersistence"]>, ruleKey: string, refs: readonly CompiledBackendRef[]): SessionPersistencePolicy {
  const byToken = new Map<string, CompiledBackendRef>();
  const fingerprints = new Map<CompiledBackendRef, string>();
  refs.forEach((ref, i) => {
    const fp = fnv1a(`${ruleKey}\u0000${i}\u0000${ref.key}`).toString(16).padStart(8, "0");
    byToken.set(fp, ref);
    fingerprints.set(ref, fp);
  });
  const seconds = (ms: number | undefined) => (ms === undefined ? null : Math.ceil(ms / 1000));
  return {
    name: spec.sessionName ?? "meshgate-session",
    type: spec.type,
    absoluteTimeoutSeconds: seconds(spec.absoluteTimeout),
    idleTimeoutSeconds: seconds(spec.idleTimeout),
    permanent: spec.cookieConfig?.lifetimeType === "Permanent",
    refs: byToken,
    fingerprints,
  };
}
