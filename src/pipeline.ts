import type { GatewayRequest, GatewayResponse } from "./http/exchange.js";
import { systemClock, systemRandom, type Clock, type Random } from "./http/runtime-env.js";
import { headersToStrip, hygiene, type HygieneOptions } from "./hygiene/hygiene.js";
import { normalizePath, type PathNormalizationOptions } from "./hygiene/normalize-path.js";
import { DEFAULT_MAX_BODY_BYTES, limitBody } from "./hygiene/body-limit.js";
import type { ApiKeyStore } from "./identity/api-keys.js";
import type { CompiledSecurity } from "./identity/compiled-security.js";
import { JwksRegistry } from "./identity/jwks-registry.js";
import { SecurityStage } from "./identity/security-stage.js";
import { xfccList } from "./identity/xfcc.js";
import { applyRateLimit, limiterStores, type LimiterStoreOptions } from "./ratelimit/rate-limit-stage.js";
import { injectFault } from "./resilience/fault.js";
import { chooseBackendRef } from "./routing/balance.js";
import { mirror } from "./routing/filters/mirror.js";
import type { Snapshot } from "./snapshot/snapshot.js";
import type { DestinationPolicies } from "./routing/compiled-rule.js";
import type { SpanRecord } from "./telemetry/otlp-exporter.js";
import type { RequestOutcome } from "./telemetry/request-outcome.js";
import { RequestTrail } from "./telemetry/request-trail.js";
import { forward } from "./upstream/forward.js";
import type { Transport } from "./upstream/transport.js";
import { UpstreamState } from "./upstream/upstream-state.js";

export interface PipelineOptions extends HygieneOptions {
  /** Request body limit in bytes when the rule's TrafficPolicy sets none (0 = none). Default 10 MiB. */
  readonly maxRequestBodyBytes?: number;
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
  const maxBody = options.maxRequestBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const upstreams = options.upstreams ?? new UpstreamState(clock);
  const send = forward({ transport: options.transport, state: upstreams, random });
  const sendMirror = mirror({ transport: options.transport, random, onError: options.onError });
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

  const sinks = { clock, observe: options.observe, tracer: options.tracer, onError: options.onError };
  const { pathNormalization } = options;

  // The stages in order, one line each. Each stage owns its detail; the trail records what happened.
  async function serve(req: GatewayRequest, snapshot: Snapshot, trail: RequestTrail, clientSignal: AbortSignal | undefined): Promise<GatewayResponse> {
    const forwardedCert = xfccList(req.headers.getAll(XFCC)); //                              read before hygiene removes it: only a SecurityPolicy may trust it
    trail.identified(clean(req, strip)); //                                       hygiene: hop-by-hop and client-sent identity headers out, forwarding headers and ids in
    req.path = normalizePath(req.path, pathNormalization); //                     path: one spelling per path, for routing, rules and upstream
    const match = snapshot.routes.route(req); //                                 route: Gateway API precedence across all routes; 404 when none
    const rule = match.rule;
    trail.routeId = rule.id;
    trail.mesh = match.entry.mesh ?? null; //                                    east-west: the Service the authority named (access log)
    req.body = limitBody(req.body, rule.maxRequestBodyBytes ?? maxBody); //        body limit: 413 before any upstream sees a byte too many
    const preflight = rule.preflight?.(req); //                                   cors: preflights answered here
    if (preflight) return preflight;
    if (rule.security !== null) trail.security = await securityStage(rule.security).run(req, forwardedCert); // identity + authorization
    const limited = rule.rateLimit === null ? null : applyRateLimit(rule.rateLimit, trail.security?.principal ?? null, req, limiters, clock); // rate limit
    if (limited !== null) trail.rateLimit = limited instanceof Promise ? await limited : limited; //  (local stores answer without a tick)
    const aborted = rule.fault === null ? null : await injectFault(rule.fault, req, clock, random, clientSignal); // fault: chaos testing
    if (aborted) return trail.faulted(aborted);
    for (const filter of rule.requestFilters) filter(req, match); //             filters: header modifiers, URL rewrite
    if (rule.redirect !== null) return rule.redirect(req, match); //              redirect is terminal
    if (rule.mirrors.length > 0 && !req.upgrade) await sendMirror(req, rule.mirrors); // mirror: fire and forget (never a second WebSocket nobody drives)
    const choice = chooseBackendRef(rule, req, random, trail); // balance: session persistence, affinity, weighted backendRefs
    for (const filter of choice.ref.requestFilters) filter(req, match); //       per-backend filters
    const destination = choice.ref.destination; //                               the chosen Service's own policies, on top of the route's
    if (destination !== null) {
      const refused = await serveDestination(req, destination, trail, forwardedCert, clientSignal);
      if (refused !== null) return refused;
    }
    const response = await send(req, destination?.forward ?? rule, choice.backend, clientSignal, trail.forward); // forward: timeouts, retries, hedging, breaker, outlier
    choice.keep?.(response); //                                                   session persistence: the token that keeps the client on this backendRef
    for (const filter of choice.ref.responseFilters) filter(response, req); //   response filters, backend's then rule's
    for (const filter of rule.responseFilters) filter(response, req);
    return response;
  }

  /** Service-targeted policies of the destination: identity + authorization, rate limit, fault, body limit. */
  async function serveDestination(req: GatewayRequest, destination: DestinationPolicies, trail: RequestTrail, forwardedCert: string | undefined, clientSignal: AbortSignal | undefined): Promise<GatewayResponse | null> {
    if (destination.security !== null) trail.security = await securityStage(destination.security).run(req, forwardedCert);
    const limited = destination.rateLimit === null ? null : applyRateLimit(destination.rateLimit, trail.security?.principal ?? null, req, limiters, clock);
    if (limited !== null) trail.rateLimit = limited instanceof Promise ? await limited : limited;
    if (destination.maxRequestBodyBytes !== null) req.body = limitBody(req.body, destination.maxRequestBodyBytes);
    const aborted = destination.fault === null ? null : await injectFault(destination.fault, req, clock, random, clientSignal);
    return aborted ? trail.faulted(aborted) : null;
  }

  const handleRequest = async function handleRequest(req: GatewayRequest, clientSignal?: AbortSignal): Promise<GatewayResponse> {
    const snapshot = options.snapshot();
    // Runtimes without a swap hook (Workers) prepare on the first request that sees a new snapshot.
    if (snapshot !== prepared) prepare(snapshot);
    const trail = new RequestTrail(req, snapshot, sinks);
    let response: GatewayResponse;
    try {
      response = await serve(req, snapshot, trail, clientSignal);
    } catch (err) {
      response = trail.fail(err); //                                              errors: one GatewayError answer, mapped in one place
    }
    trail.finish(response); //                                                    telemetry: config version, rate-limit headers, metrics, log, spans
    return response;
  };
  return Object.assign(handleRequest, { prepare });
}
