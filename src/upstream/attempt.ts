import { GatewayError, isLocalFault } from "../http/gateway-error.js";
import type { GatewayRequest } from "../http/exchange.js";
import type { CompiledBackend, CompiledEndpoint } from "./compiled-backend.js";
import { hashPoint } from "./hash-point.js";
import type { ForwardPolicy } from "./forward-policy.js";
import { chooseEndpoint } from "./balancer.js";
import type { AttemptOutcome } from "../resilience/outlier.js";
import { TransportError, type Transport, type UpstreamResponse } from "./transport.js";
import type { UpstreamState } from "./upstream-state.js";
import type { Random } from "../http/runtime-env.js";
import { randomHex } from "../http/random-hex.js";
import type { AttemptSpan, ForwardStats } from "./forward-stats.js";

/** Why an attempt failed: "overloaded" is the gateway's own connection limit (nothing was sent, nothing is recorded). */
export type FailureCause = "connect" | "reset" | "timeout" | "overloaded" | "other";

export type AttemptResult =
  | { readonly kind: "response"; readonly response: UpstreamResponse; readonly endpoint: CompiledEndpoint }
  | { readonly kind: "failure"; readonly error: GatewayError; readonly cause: FailureCause; readonly endpoint: CompiledEndpoint | null };

export interface AttemptContext {
  readonly req: GatewayRequest;
  readonly rule: ForwardPolicy;
  readonly backend: CompiledBackend;
  readonly transport: Transport;
  readonly state: UpstreamState;
  readonly random: Random;
  /** Endpoints this request already used; the next attempt prefers another. Null: the request has one attempt only. */
  readonly tried: Set<string> | null;
  /** Aborts every attempt of the request (client gone, request timeout). */
  readonly requestSignal: AbortSignal | undefined;
  readonly trace: ForwardStats["trace"] | null;
}

const NONE_TRIED: ReadonlySet<string> = new Set();

/**
 * One attempt at one endpoint: breaker slot, per-try timeout, and the endpoint's health bookkeeping.
 * `cancellable` gives the attempt its own controller (for timeouts and hedging); `expose`
 * receives a function that aborts this attempt alone.
 */
export async function runAttempt(ctx: AttemptContext, cancellable: boolean, expose?: (abort: (reason: GatewayError) => void) => void): Promise<AttemptResult> {
  const { req, rule, backend, state } = ctx;
  const clock = state.clock;
  // Consistent hashing picks the first endpoint by the request's key; retries go elsewhere as usual.
  const hashOn = backend.hashOn ?? ctx.rule.endpointHash ?? null;
  const point = hashOn === null || (ctx.tried !== null && ctx.tried.size > 0) ? null : hashPoint(hashOn, req);
  const endpoint = chooseEndpoint(backend, state.health.backend(backend.key), clock.now(), point === null ? ctx.random : () => point, ctx.tried ?? NONE_TRIED);
  if (endpoint === null) return { kind: "failure", error: new GatewayError("upstream_unavailable", `backend ${backend.key} has no endpoints`), cause: "other", endpoint: null };
  ctx.tried?.add(endpoint.origin);

  const breaker = state.breaker(backend);
  let span: AttemptSpan | null = null;
  let release: (() => void) | null = null;
  try {
    if (breaker !== null) {
      const slot = breaker.acquire(backend.key, ctx.requestSignal);
      release = typeof slot === "function" ? slot : await slot;
    }
  } catch (err) {
    if (err instanceof GatewayError && err.code === "backend_overloaded") state.counters.breakerRejections++;
    return { kind: "failure", error: err instanceof GatewayError ? err : new GatewayError("upstream_reset", "request cancelled while queued"), cause: "other", endpoint };
  }

  // Per-try timeouts and lost hedges cancel through the transport's hook: no controller per attempt.
  const signal = ctx.requestSignal;
  let cancelled: GatewayError | null = null;
  let cancelAttempt: ((reason: unknown) => void) | null = null;
  const cancel = (reason: GatewayError) => {
    cancelled ??= reason;
    cancelAttempt?.(reason);
  };
  if (cancellable) expose?.(cancel);
  const timeoutMs = rule.backendTimeoutMs;
  const cancelTimer =
    cancellable && timeoutMs !== null && timeoutMs > 0
      ? clock.timer(timeoutMs, () => cancel(new GatewayError("upstream_timeout", `upstream did not answer within ${timeoutMs} ms`)))
      : null;
  try {
    if (ctx.trace) {
      // Each attempt is a client span; the upstream sees it as its parent.
      span = { spanId: randomHex(8), endpoint: endpoint.origin, startMs: Date.now(), endMs: 0, status: null, error: null };
      ctx.trace.spans.push(span);
      req.headers.set("traceparent", `00-${ctx.trace.traceId}-${span.spanId}-${ctx.trace.flags}`);
    }
    const response = await ctx.transport.send({
      origin: endpoint.origin,
      tls: backend.tls,
      protocol: backend.protocol,
      method: req.method,
      path: req.path + req.query,
      headers: req.headers,
      body: req.body,
      signal,
      connection: backend.connection,
      headersTimeoutMs: headersTimeoutMs(rule, backend),
      bodyIdleTimeoutMs: idleTimeoutMs(rule, backend),
      upgrade: req.upgrade ?? null,
      cancelHook: cancellable ? (fn: (reason: unknown) => void) => void (cancelAttempt = fn) : undefined,
    });
    cancelTimer?.();
    if (span) {
      span.endMs = Date.now();
      span.status = response.status;
    }
    // A 5xx the upstream sent counts toward consecutive5xx; "gateway errors" are failures the
    // gateway saw itself (refused, reset, timed out), so a burst of 503s cannot trip them.
    // Anything else is a success only once its body arrived whole: a reset, a stall or a short
    // body after the headers is the endpoint's failure too (the client saw a broken response).
    const body = response.body;
    if (response.status >= 500 || body.onSettled === undefined) record(ctx, endpoint, response.status >= 500 ? "5xx" : "success");
    if (body.onSettled !== undefined) {
      const done = release;
      const check = response.status < 500;
      if (done !== null || check) {
        body.onSettled((end) => {
          done?.();
          if (check && end !== "cancelled") record(ctx, endpoint, end === "complete" ? "success" : "gateway-error");
        });
      }
    } else release?.();
    return { kind: "response", response, endpoint };
  } catch (err) {
    cancelTimer?.();
    release?.();
    // The request could not be built or sent for reasons of its own: nothing to say about the endpoint.
    if (isLocalFault(err)) return { kind: "failure", error: err, cause: "other", endpoint };
    const failure = classify(cancelled ?? err, signal, backend.key);
    if (span) {
      span.endMs = Date.now();
      span.error = failure.error.code;
    }
    // Our own aborts (lost hedge, client gone, request deadline) say nothing about the endpoint;
    // a refused connection is a local-origin failure: the endpoint is avoided at once.
    if (failure.cause === "connect") record(ctx, endpoint, "local-origin");
    else if (failure.cause === "overloaded") state.counters.breakerRejections++; // our own limit: nothing was sent
    else if (failure.cause !== "other" || !(signal?.aborted === true || cancelled !== null)) record(ctx, endpoint, "gateway-error");
    return { ...failure, endpoint };
  }
}

/**
 * The timeouts the transport applies to one attempt. Response headers: a per-try timeout the
 * core runs itself replaces the Backend's; a route that wrote `timeouts.request: 0s` asked for
 * no deadline, so defaults are lifted there (a Backend's own explicit values still apply).
 */
export function transportTimeouts(rule: ForwardPolicy, backend: CompiledBackend): { headersMs: number; idleMs: number } {
  return { headersMs: headersTimeoutMs(rule, backend), idleMs: idleTimeoutMs(rule, backend) };
}

function headersTimeoutMs(rule: ForwardPolicy, backend: CompiledBackend): number {
  return rule.backendTimeoutMs !== null ? 0 : rule.requestTimeoutMs === 0 && !backend.explicitTimeouts.responseHeaders ? 0 : backend.timeouts.responseHeadersMs;
}

function idleTimeoutMs(rule: ForwardPolicy, backend: CompiledBackend): number {
  return rule.requestTimeoutMs === 0 && !backend.explicitTimeouts.streamIdle ? 0 : backend.timeouts.streamIdleMs;
}

function record(ctx: AttemptContext, endpoint: CompiledEndpoint, outcome: AttemptOutcome): void {
  const { backend, state } = ctx;
  if (state.health.backend(backend.key).record(endpoint.origin, outcome, backend.outlier, backend.endpoints.length, state.clock.now())) state.counters.ejections++;
}

function classify(err: unknown, signal: AbortSignal | undefined, backend: string): { kind: "failure"; error: GatewayError; cause: FailureCause } {
  if (signal?.aborted === true && signal.reason instanceof GatewayError) {
    const reason = signal.reason;
    return { kind: "failure", error: reason, cause: reason.code === "upstream_timeout" ? "timeout" : "other" };
  }
  if (err instanceof TransportError) {
    switch (err.code) {
      case "connect_failed":
        return { kind: "failure", error: new GatewayError("upstream_unavailable", `cannot connect to backend ${backend}`, undefined, { cause: err }), cause: "connect" };
      case "bad_response":
        return { kind: "failure", error: new GatewayError("upstream_bad_response", `backend ${backend} sent an invalid response`, undefined, { cause: err }), cause: "reset" };
      case "aborted":
        return { kind: "failure", error: new GatewayError("upstream_reset", `request to backend ${backend} was cancelled`, undefined, { cause: err }), cause: "other" };
      case "reset":
        return { kind: "failure", error: new GatewayError("upstream_reset", `backend ${backend} closed the connection`, undefined, { cause: err }), cause: "reset" };
      case "timeout":
        return { kind: "failure", error: new GatewayError("upstream_timeout", `backend ${backend} sent no response headers in time (${err.message})`, undefined, { cause: err }), cause: "timeout" };
      case "overloaded":
        return { kind: "failure", error: new GatewayError("backend_overloaded", `backend ${backend}: ${err.message}`, [["x-meshgate-flags", "UO"]], { cause: err }), cause: "overloaded" };
    }
  }
  if (err instanceof GatewayError) return { kind: "failure", error: err, cause: err.code === "upstream_timeout" ? "timeout" : "other" };
  return { kind: "failure", error: new GatewayError("upstream_reset", `request to backend ${backend} failed`, undefined, { cause: err }), cause: "reset" };
}
