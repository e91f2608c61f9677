import type { Snapshot } from "../policy/snapshot.js";
import { forward, type ForwardStats } from "../upstream/forward.js";
import { UpstreamState } from "../upstream/upstream-state.js";
import { affinityPoint } from "./affinity.js";
import { persistedRef, sessionHeader } from "./session-persistence.js";
import { injectFault } from "./fault.js";
import type { Transport } from "../upstream/transport.js";
import { pick } from "../upstream/weighted.js";
import { isResponseBody, type BodyEnd, type GatewayRequest, type GatewayResponse } from "./exchange.js";
import type { RequestIds } from "./hygiene/hygiene.js";
import { responseFlags } from "../telemetry/response-flags.js";
import type { SpanRecord } from "../telemetry/otlp-exporter.js";
import { recordSpans } from "../telemetry/request-spans.js";
import { GatewayError, errorBody, errorHeaders, toGatewayError } from "./gateway-error.js";
import { headersToStrip, hygiene, type HygieneOptions } from "./hygiene/hygiene.js";
import { normalizePath, type PathNormalizationOptions } from "./hygiene/normalize-path.js";
import { mirror } from "./mirror.js";
import { JwksRegistry } from "./identity/jwks-registry.js";
import type { ApiKeyStore } from "./identity/api-keys.js";
import { AccessDenied, SecurityStage, type SecurityResult } from "./identity/security-stage.js";
import type { CompiledSecurity } from "../policy/snapshot.js";
import { applyRateLimit, limiterStores, RateLimited, type LimiterStoreOptions, type RateLimitResult } from "../ratelimit/rate-limit-stage.js";
import { systemClock, systemRandom, type Clock, type Random } from "./runtime-env.js";

export interface PipelineOptions extends HygieneOptions {
  /** How request paths are normalized before routing (and sent upstream). */
  readonly pathNormalization?: PathNormalizationOptions;
  /** Returns the snapshot in force; read once per request so a swap never splits one. */
  readonly snapshot: () => Snapshot;
  readonly transport: Transport;
  readonly clock?: Clock;
  readonly random?: Random;
  /** Endpoint health, breakers and budgets; pass one to share or inspect it. */
  readonly upstreams?: UpstreamState;
  /** Called once per request after the response is decided (metrics, access log). */
  readonly observe?: (event: RequestOutcome) => void;
  /** Receives a server span per request and a client span per upstream attempt (sampled requests). */
  readonly tracer?: { add(span: SpanRecord): void };
  /** Remote JWKS cache shared across snapshots; the Node runtime passes one that honours custom CAs. */
  readonly jwks?: JwksRegistry;
  /** Per-key API key lookups for policies with `apiKey.keyStore: true`. */
  readonly apiKeyStore?: ApiKeyStore | null;
  /** Rate-limit stores: `local` defaults to this process's memory; `global` to none. */
  readonly limiters?: LimiterStoreOptions;
  /** Wall-clock ms for token and key expiry. Default Date.now. */
  readonly wallClock?: () => number;
  /** Receives failures the client does not see (mirror errors, internal errors' causes). */
  readonly onError?: (err: unknown, context: string) => void;
}

export interface RequestOutcome {
  readonly request: GatewayRequest;
  readonly requestId: string;
  readonly ids: RequestIds | null;
  readonly response: GatewayResponse;
  /** Envoy-style response flag ("-" when none). */
  readonly flags: string;
  /** Clock reading when the response (body included, where the runtime can tell) was done. */
  readonly endTime: number;
  /** Response body bytes, where known. */
  readonly responseBytes: number | null;
  readonly snapshot: Snapshot;
  readonly routeId: string | null;
  readonly backend: string | null;
  readonly error: GatewayError | null;
  readonly forward: ForwardStats;
  /** Who called and what authorization decided, when a SecurityPolicy applied. */
  readonly security: SecurityResult | null;
  /** Which rate-limit rule applied and what it decided. */
  readonly rateLimit: RateLimitResult | null;
}

export interface Pipeline {
  (req: GatewayRequest, clientSignal?: AbortSignal): Promise<GatewayResponse>;
  /** Readies a freshly loaded snapshot (fetches JWKS key sets) before traffic needs it. */
  prepare(snapshot: Snapshot): void;
}

const XFCC = "x-forwarded-client-cert";

/** The request path, top to bottom, one stage per line. */
export function createPipeline(options: PipelineOptions): Pipeline {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom;
  const clean = hygiene(options);
  const upstreams = options.upstreams ?? new UpstreamState(clock);
  const send = forward({ transport: options.transport, state: upstreams, random });
  const sendMirror = mirror({ transport: options.transport, random, onError: options.onError });
  const observe = options.observe;
  const securityDeps = { jwks: options.jwks ?? new JwksRegistry(undefined, undefined, options.onError), apiKeyStore: options.apiKeyStore ?? null, now: options.wallClock ?? Date.now };
  const securityStages = new WeakMap<CompiledSecurity, SecurityStage>();
  const securityStage = (compiled: CompiledSecurity) => {
    let stage = securityStages.get(compiled);
    if (stage === undefined) securityStages.set(compiled, (stage = new SecurityStage(compiled, securityDeps)));
    return stage;
  };

  const limiters = limiterStores(options.limiters, clock);
  let prepared: Snapshot | null = null;
  let strip = headersToStrip([]);
  const prepare = (snapshot: Snapshot) => {
    prepared = snapshot;
    strip = headersToStrip(snapshot.identityHeaders);
    securityDeps.jwks.newEpoch();
    for (const compiled of snapshot.securityPolicies) securityStage(compiled).prefetch();
  };

  const handleRequest = async function handleRequest(req: GatewayRequest, clientSignal?: AbortSignal): Promise<GatewayResponse> {
    const snapshot = options.snapshot();
    // Runtimes without a swap hook (Workers) prepare on the first request that sees a new snapshot.
    if (snapshot !== prepared) prepare(snapshot);
    let ids: RequestIds | null = null;
    let flags = "-";
    let routeId: string | null = null;
    let backendKey: string | null = null;
    let response: GatewayResponse;
    let error: GatewayError | null = null;
    let security: SecurityResult | null = null;
    let rateLimit: RateLimitResult | null = null;
    const stats: ForwardStats = { attempts: 0, hedges: 0, endpoint: null, retrySkipped: null };
    try {
      const forwardedCert = req.headers.get(XFCC); //            read before hygiene removes it: only a SecurityPolicy may trust it
      ids = clean(req, strip); //                                 hygiene: hop-by-hop and client-sent identity headers out, forwarding headers and ids in
      if (options.tracer && ids.sampled) stats.trace = { traceId: ids.traceId, flags: "01", spans: [] }; // trace: one span per attempt
      req.path = normalizePath(req.path, options.pathNormalization); // path: one spelling per path, for routing, rules and upstream
      const match = snapshot.routes.match(req); //               route: Gateway API precedence across all routes
      if (match === null) throw new GatewayError("no_route", `no route for ${req.method} ${req.host}${req.path}`);
      const rule = match.rule;
      routeId = rule.id;
      const preflight = rule.preflight?.(req); //                cors: preflights answered here
      if (preflight) return (response = preflight);
      if (rule.security !== null) security = await securityStage(rule.security).run(req, forwardedCert); // identity + authorization
      if (rule.rateLimit !== null) {
        const limited = applyRateLimit(rule.rateLimit, security?.principal ?? null, req, limiters, clock); // rate limit
        rateLimit = limited instanceof Promise ? await limited : limited;
      }
      if (rule.fault !== null) {
        const aborted = await injectFault(rule.fault, req, clock, random, clientSignal); // fault: chaos testing
        if (aborted) {
          flags = "FI";
          return (response = aborted);
        }
      }
      for (const filter of rule.requestFilters) filter(req, match); // filters: header modifiers, URL rewrite
      if (rule.redirect !== null) return (response = rule.redirect(req, match)); // redirect is terminal
      if (rule.mirrors.length > 0) await sendMirror(req, rule.mirrors); // mirror: fire and forget
      const nowSeconds = rule.persistence === null ? 0 : Math.floor(Date.now() / 1000);
      const persisted = rule.persistence === null ? null : persistedRef(rule.persistence, req, nowSeconds); // session persistence: a gateway-issued token
      const point = persisted !== null || rule.affinity === null ? null : affinityPoint(rule.affinity, req);
      const ref = persisted?.ref ?? (rule.backends === null ? null : pick(rule.backends, point === null ? random : () => point)); // balance: weighted backendRefs, sticky with affinity
      if (ref === null) throw new GatewayError("no_backend", `route ${rule.id} has no backend with weight above zero`);
      backendKey = ref.key;
      if (ref.backend === null) throw new GatewayError("backend_not_found", `backend ${ref.key} of route ${rule.id} does not exist`);
      for (const filter of ref.requestFilters) filter(req, match);
      response = await send(req, rule, ref.backend, clientSignal, stats); // forward: timeouts, retries, hedging, breaker, outlier
      if (rule.persistence !== null && (persisted === null || rule.persistence.idleTimeoutSeconds !== null)) response.headers.append(...sessionHeader(rule.persistence, ref, persisted?.issuedAt ?? nowSeconds));
      for (const filter of ref.responseFilters) filter(response, req);
      for (const filter of rule.responseFilters) filter(response, req);
      return response;
    } catch (err) {
      error = toGatewayError(err);
      if (err instanceof AccessDenied) security = err.result;
      if (err instanceof RateLimited) rateLimit = err.result;
      flags = responseFlags(error.code);
      if (error.code === "internal") options.onError?.(err, "pipeline");
      // Client errors (bad tokens, denied requests) are the access log's business, not the error log's.
      else if (error.cause !== undefined && error.status >= 500) options.onError?.(error.cause, `${error.code} (${error.message})`);
      return (response = { status: error.status, headers: errorHeaders(error), body: errorBody(error) });
    } finally {
      // Which config answered: operators compare this across instances during a rollout.
      response!.headers.append("x-meshgate-config-version", snapshot.version);
      if (rateLimit !== null && rateLimit.outcome === "allowed") for (const [name, value] of rateLimit.headers) response!.headers.append(name, value);
      if (observe || options.tracer) {
        const done = response!;
        const report = (end?: BodyEnd) => {
          // A body the upstream broke off after the headers went out: the client saw a failure.
          if (end === "failed" && flags === "-") flags = "UR";
          else if (end === "timeout" && flags === "-") flags = "UT";
          if (options.tracer && stats.trace && ids) recordSpans(options.tracer, ids, req, done, stats, routeId, clock.now());
          const body = done.body;
          const bytes = typeof body === "string" ? body.length : body instanceof Uint8Array ? body.byteLength : body === null ? 0 : (body.bytes ?? null);
          observe?.({ request: req, requestId: ids?.requestId ?? "", ids, response: done, flags, endTime: clock.now(), responseBytes: bytes, snapshot, routeId, backend: backendKey, error, forward: stats, security, rateLimit });
        };
        // Streaming bodies are reported when they finish, so durations and sizes are whole.
        if (isResponseBody(done.body) && done.body.onSettled) done.body.onSettled(report);
        else report();
      }
    }
  };
  return Object.assign(handleRequest, { prepare });
}
