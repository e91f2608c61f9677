import { HeaderList } from "../http/header-list.js";
import type { GatewayRequest } from "../http/exchange.js";
import { normalizeHost } from "../http/host.js";
import type { RouteEntry } from "../routing/compiled-rule.js";
import type { CompiledBackend } from "../upstream/compiled-backend.js";
import type { CompiledRule } from "../routing/compiled-rule.js";
import type { Snapshot } from "../snapshot/snapshot.js";
import type { UpstreamState } from "../upstream/upstream-state.js";
import { normalizePath } from "../hygiene/normalize-path.js";
import { REDACTED, redactQuery } from "../http/redact.js";
import type { GatewayError } from "../http/gateway-error.js";
import type { SecurityDeps } from "../identity/security-stage.js";
import type { DestinationPolicies } from "../routing/compiled-rule.js";
import { explainRateLimit, explainSecurity } from "./explain-policies.js";
import { grpcCallInput, grpcMethodOf } from "./explain-grpc.js";

export interface ExplainInput {
  readonly method: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The client address authorization sees (sourceCIDRs). Default 127.0.0.1. */
  readonly clientAddress?: string;
}

export interface ExplainContext {
  /** Live endpoint health. */
  readonly upstreams?: UpstreamState;
  readonly now?: number;
  /** Key sets and key store to verify credentials with (the gateway's own, when served by it). */
  readonly security?: SecurityDeps;
}

/**
 * The decision trail for one request, computed from the same compiled snapshot the gateway
 * serves: which rule matches and why the others do not, which policies apply, where traffic
 * would go and with what weights and health. Nothing is sent anywhere.
 */
export async function explain(snapshot: Snapshot, given: ExplainInput, context: ExplainContext = {}): Promise<Record<string, unknown>> {
  const { upstreams, now = 0 } = context;
  const { input, grpc } = grpcCallInput(given);
  if (!URL.canParse(input.url)) throw new Error(`"${input.url}" is not a full URL: give one such as http://example.com${input.url.startsWith("/") ? input.url : "/path"} (a host header, if given, still picks the route)`);
  const url = new URL(input.url);
  const headers = HeaderList.fromEntries(Object.entries(input.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v] as const));
  const authority = headers.get("host") ?? url.host;
  const { host, port } = normalizeHost(authority);
  const req: GatewayRequest = {
    method: input.method.toUpperCase(),
    scheme: url.protocol === "https:" ? "https" : "http",
    host,
    hostPort: port,
    listenerPort: port ?? (url.protocol === "https:" ? 443 : 80),
    path: url.pathname,
    query: url.search,
    headers,
    body: null,
    clientAddress: input.clientAddress ?? "127.0.0.1",
    startTime: 0,
  };
  try {
    req.path = normalizePath(req.path);
  } catch (err) {
    return { config: { version: snapshot.version, hash: snapshot.hash }, request: { method: req.method, host, path: url.pathname }, outcome: { status: 400, error: (err as GatewayError).code, message: (err as Error).message } };
  }
  const forwardedCert = headers.get("x-forwarded-client-cert");
  headers.deleteAll(snapshot.identityHeaders);
  const candidates = snapshot.routes.candidates(host, port);
  const service = snapshot.routes.service(host);
  const query = new URLSearchParams(req.query);
  let matched: RouteEntry | null = null;
  const considered = candidates.map((entry) => {
    const describe = describeEntry(entry);
    if (matched !== null) return { ...describe, result: "not evaluated: a rule with higher precedence matched" };
    const reason = mismatch(entry, req, query);
    if (reason === null) {
      matched = entry;
      return { ...describe, result: "matched" };
    }
    return { ...describe, result: `no match: ${reason}` };
  });
  const ingress = snapshot.routes.entries.filter((e) => e.mesh === undefined).length;
  const others = service === undefined ? ingress - candidates.length : ingress;
  const trail: Record<string, unknown> = {
    config: { version: snapshot.version, hash: snapshot.hash },
    // Explain output is pasted into tickets and chats: credentials never appear in it.
    request: { ...(grpc ? { grpc: req.path.slice(1) } : {}), method: req.method, host, port, path: req.path, query: redactQuery(req.query, snapshot.credentials.params), headers: Object.fromEntries([...headers.entries()].map(([k, v]) => [k, snapshot.credentials.headers.has(k) ? REDACTED : v])) },
    routing: {
      ...(service !== undefined ? { service: meshFacts(service.service, candidates, port, snapshot) } : {}),
      considered,
      ...(others > 0 ? { skipped: service === undefined ? `${others} match(es) of routes whose hostnames do not cover ${host}` : `${others} match(es) of ingress routes: ${host} names Service ${service.service}, which only its mesh routes serve` } : {}),
    },
  };
  if (matched === null) return { ...trail, outcome: { status: 404, error: "no_route" } };
  const rule = (matched as RouteEntry).rule;
  const security = await explainSecurity(rule, req, forwardedCert, context.security);
  if (security.outcome) return { ...trail, rule: ruleFacts(rule), ...security.trail, outcome: security.outcome };
  return {
    ...trail,
    rule: ruleFacts(rule),
    ...security.trail,
    rateLimit: explainRateLimit(rule, security.principal, req),
    ...(rule.redirect !== null ? { outcome: { kind: "terminal filter (redirect or unsupported extension)", response: describeTerminal(rule, req, matched) } } : { balance: balance(rule, upstreams, now) }),
  };
}

/** Which Service the authority named, and what serves it on the port addressed. */
function meshFacts(service: string, candidates: readonly RouteEntry[], port: number | null, snapshot: Snapshot): Record<string, unknown> {
  const roles = new Set(candidates.map((e) => e.mesh?.role));
  const servedBy = roles.has("consumer")
    ? `consumer routes of namespace ${snapshot.mesh.namespace} (they replace the producer routes for this gateway's callers)`
    : roles.has("producer")
      ? "producer routes (in the Service's namespace, for every caller)"
      : roles.has("default")
        ? "the default route: no mesh route claims this port, so the request goes unchanged to the Backend named like the Service"
        : "nothing: no mesh route claims this port and the Service has no Backend";
  return { name: service, port: port ?? 80, namespace: snapshot.mesh.namespace, servedBy };
}

function describeEntry(e: RouteEntry): Record<string, unknown> {
  return {
    ...(e.mesh !== undefined ? { mesh: e.mesh.role === "default" ? `default route of Service ${e.mesh.service}` : `${e.mesh.role} route, parentRefs[${e.mesh.parent}] Service ${e.mesh.service}${e.mesh.port === null ? "" : ` port ${e.mesh.port}`}` } : {}),
    ...(e.grpc !== undefined ? { kind: "GRPCRoute", grpcMethod: grpcMethodOf(e) } : {}),
    route: `${e.rule.route.namespace}/${e.rule.route.name}`,
    rule: e.rule.id,
    match: e.age.match,
    hostname: e.hostPattern ?? "(any)",
    path: `${e.path.type} ${e.path.value}`,
    ...(e.method ? { method: e.method } : {}),
    ...(e.headers.length > 0 ? { headers: e.headers.map((h) => `${h.name} ${h.type === "Exact" ? "==" : "~"} ${h.value}`) } : {}),
    ...(e.query.length > 0 ? { queryParams: e.query.map((q) => `${q.name} ${q.type === "Exact" ? "==" : "~"} ${q.value}`) } : {}),
  };
}

function mismatch(e: RouteEntry, req: GatewayRequest, query: URLSearchParams): string | null {
  if (e.method !== null && e.method !== req.method) return `method ${req.method} is not ${e.method}`;
  if (!e.path.test(req.path)) return `path ${req.path} does not match ${e.path.type} ${e.path.value}`;
  for (const h of e.headers) {
    const v = req.headers.getJoined(h.name);
    if (!h.test(v)) return `header ${h.name} is ${v === undefined ? "absent" : JSON.stringify(v)}, wanted ${h.type === "Exact" ? JSON.stringify(h.value) : `/${h.value}/`}`;
  }
  for (const q of e.query) {
    const v = query.get(q.name) ?? undefined;
    if (!q.test(v)) return `query parameter ${q.name} is ${v === undefined ? "absent" : JSON.stringify(v)}, wanted ${q.type === "Exact" ? JSON.stringify(q.value) : `/${q.value}/`}`;
  }
  return null;
}

function ruleFacts(rule: CompiledRule): Record<string, unknown> {
  return {
    id: rule.id,
    trafficPolicy: rule.trafficPolicy,
    timeouts: { requestMs: rule.requestTimeoutMs, perAttemptMs: rule.backendTimeoutMs },
    retry: rule.retry ? { attempts: rule.retry.attempts, codes: [...rule.retry.codes], budget: rule.retry.budget, nonIdempotent: rule.retry.nonIdempotent } : null,
    hedge: rule.hedge,
    fault: rule.fault,
    sessionAffinity: rule.affinity,
    sessionPersistence: rule.persistence ? { name: rule.persistence.name, type: rule.persistence.type, absoluteTimeoutSeconds: rule.persistence.absoluteTimeoutSeconds, idleTimeoutSeconds: rule.persistence.idleTimeoutSeconds } : null,
    mirrors: rule.mirrors.map((m) => ({ backend: m.backend?.key ?? null, percent: m.fraction * 100 })),
    cors: rule.preflight !== null,
    filters: { request: rule.requestFilters.length, response: rule.responseFilters.length },
  };
}

function describeTerminal(rule: CompiledRule, req: GatewayRequest, entry: RouteEntry): Record<string, unknown> {
  const res = rule.redirect!(req, { entry, rule });
  return { status: res.status, location: res.headers.get("location") ?? null };
}

function balance(rule: CompiledRule, upstreams: UpstreamState | undefined, now: number): Record<string, unknown> {
  const total = rule.backendRefs.reduce((s, r) => s + r.weight, 0);
  return {
    backendRefs: rule.backendRefs.map((r) => ({
      backend: r.key,
      weight: r.weight,
      share: total === 0 ? 0 : Math.round((r.weight / total) * 10_000) / 100,
      resolved: r.backend !== null,
      ...(r.backend === null ? { outcome: "500 backend_not_found for this share" } : { endpoints: endpoints(r.backend, upstreams, now) }),
      ...(r.destination !== null ? { servicePolicies: destinationFacts(r.destination) } : {}),
    })),
    chosenBy: rule.affinity ? `hash of ${rule.affinity.header ? `header ${rule.affinity.header}` : `cookie ${rule.affinity.cookie}`} into the weights (random without it)` : "weighted random",
    ...(total === 0 ? { outcome: "500 no_backend: no backendRef has weight above zero" } : {}),
  };
}

function endpoints(backend: CompiledBackend, upstreams: UpstreamState | undefined, now: number): Record<string, unknown>[] {
  const health = upstreams?.health.backend(backend.key);
  return backend.endpoints.map((e) => {
    const h = health?.endpoints.get(e.origin);
    return {
      url: e.origin,
      weight: e.weight,
      priority: e.priority,
      ...(e.zone ? { zone: e.zone } : {}),
      ...(e.cluster ? { cluster: e.cluster } : {}),
      healthy: h === undefined ? true : h.healthy(now),
      ...(h && now < h.ejectedUntil ? { ejectedForMs: Math.round(h.ejectedUntil - now) } : {}),
      ...(h && !h.activeHealthy ? { healthCheck: "failing" } : {}),
    };
  });
}

/** The Service-targeted policies a share also passes (after it is chosen), for explain. */
function destinationFacts(d: DestinationPolicies): Record<string, unknown> {
  return {
    service: d.service,
    ...(d.security !== null ? { securityPolicy: d.security.name } : {}),
    ...(d.rateLimit !== null ? { rateLimitPolicy: d.rateLimit.name } : {}),
    ...(d.trafficPolicy !== null ? { trafficPolicy: d.trafficPolicy } : {}),
  };
}
