import { grpcTimeoutMs, isGrpcRequest } from "../http/grpc.js";
import { GatewayError } from "../http/gateway-error.js";
import type { GatewayRequest, GatewayResponse } from "../http/exchange.js";
import type { Random } from "../http/runtime-env.js";
import type { CompiledBackend } from "./compiled-backend.js";
import type { ForwardPolicy } from "./forward-policy.js";
import type { HedgePolicy, RetryPolicy } from "../resilience/policies.js";
import type { RetryBudget } from "../resilience/retry-budget.js";
import { runAttempt, type AttemptContext, type AttemptResult } from "./attempt.js";
import { backoffDelay } from "../resilience/backoff.js";
import { linkedController } from "../http/abort-link.js";
import { retryAfterMs } from "../resilience/retry-after.js";
import type { Transport } from "./transport.js";
import type { UpstreamState } from "./upstream-state.js";
import type { ForwardStats } from "./forward-stats.js";

export interface ForwardOptions {
  readonly transport: Transport;
  readonly state: UpstreamState;
  readonly random: Random;
}

export type Forward = (req: GatewayRequest, rule: ForwardPolicy, backend: CompiledBackend, clientSignal: AbortSignal | undefined, stats: ForwardStats) => Promise<GatewayResponse>;

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);

/**
 * The forward stage: attempts at the backend within the rule's request timeout (until response
 * headers), each with its per-try timeout; retries on the policy's conditions while attempts,
 * the retry budget and a replayable body allow, backing off exponentially with jitter or as
 * Retry-After asks; hedges idempotent requests to a second endpoint when configured.
 */
export function forward(options: ForwardOptions): Forward {
  const { transport, state, random } = options;
  const clock = state.clock;

  return function forwardRequest(req, rule, backend, clientSignal, stats) {
    const retry = rule.retry;
    const idempotent = IDEMPOTENT.has(req.method);
    // An upgrade is one connection for its whole life: a hedge would open a second one.
    const hedge = rule.hedge !== null && idempotent && !req.upgrade ? rule.hedge : null;
    // One attempt and no deadline of the route's own: nothing to retry, budget or time here.
    if (retry === null && hedge === null && !(rule.requestTimeoutMs !== null && rule.requestTimeoutMs > 0) && !isGrpcRequest(req.headers)) {
      return single({ req, rule, backend, transport, state, random, tried: null, requestSignal: clientSignal, trace: stats.trace ?? null }, rule.backendTimeoutMs !== null, stats);
    }
    return withPolicies(req, rule, backend, clientSignal, stats, retry, hedge, idempotent);
  };

  async function withPolicies(req: GatewayRequest, rule: ForwardPolicy, backend: CompiledBackend, clientSignal: AbortSignal | undefined, stats: ForwardStats, retry: RetryPolicy | null, hedge: HedgePolicy | null, idempotent: boolean): Promise<GatewayResponse> {
    // Every request pays into the budgets first: retries and hedges are bounded by a share of them.
    const budget = retry !== null ? state.budget(backend, retry.budget) : null;
    budget?.recordRequest();
    const hedgeBudget = hedge !== null ? state.budget(backend, hedge.budget, "hedge") : null;
    hedgeBudget?.recordRequest();
    if ((retry !== null || hedge !== null) && req.body !== null && !req.body.replayable) {
      req.body = await transport.makeReplayable(req.body, retry?.maxBufferBytes ?? 64 * 1024);
    }
    const replayable = req.body === null || req.body.replayable;

    // A gRPC client's grpc-timeout bounds its call too, never beyond the route's own timeout.
    const routeMs = rule.requestTimeoutMs !== null && rule.requestTimeoutMs > 0 ? rule.requestTimeoutMs : null;
    const grpcMs = isGrpcRequest(req.headers) ? grpcTimeoutMs(req.headers) : null;
    const timeoutMs = grpcMs === null ? routeMs : routeMs === null ? grpcMs : Math.min(routeMs, grpcMs);
    const deadline = timeoutMs !== null ? new AbortController() : null;
    const cancelDeadline = deadline ? clock.timer(timeoutMs!, () => deadline.abort(new GatewayError("request_timeout", `request timed out after ${timeoutMs} ms`))) : null;
    const deadlineLink = deadline === null ? null : linkedController(clientSignal, deadline.signal);
    const requestSignal = deadlineLink === null ? clientSignal : deadlineLink.controller.signal;
    const ctx: AttemptContext = { req, rule, backend, transport, state, random, tried: new Set(), requestSignal, trace: stats.trace ?? null };
    const needsController = retry !== null || hedge !== null || rule.backendTimeoutMs !== null;

    /**
     * May this failure or status be retried now? Records why not when a policy said yes but a limit
     * said no. A request that never left the gateway (connection refused) is retried without
     * spending the budget: it added no load upstream, and the next attempt goes elsewhere.
     */
    const mayRetry = (attempt: number, retryWanted: boolean, nothingSent: boolean, grpcRefused = false): boolean => {
      if (retry === null || !retryWanted || attempt > retry.attempts) return false;
      if (!nothingSent && !idempotent && !retry.nonIdempotent && !grpcRefused) return false;
      if (requestSignal?.aborted) return false;
      if (!replayable) return skip("body-too-large");
      if (!nothingSent && !budget!.tryWithdraw()) return skip("budget-exhausted");
      return true;
    };
    const skip = (reason: string): false => {
      stats.retrySkipped = reason;
      state.counters.retriesSkipped++;
      return false;
    };

    try {
      for (let attempt = 1; ; attempt++) {
        stats.attempts++;
        const result = hedge === null ? await runAttempt(ctx, needsController) : await hedged(ctx, hedge, hedgeBudget!, retry, stats);
        stats.endpoint = result.endpoint?.origin ?? stats.endpoint;
        if (result.kind === "response") {
          const { response } = result;
          const grpcRefused = retry?.grpcStatuses !== undefined && retry.grpcStatuses.size > 0 && retry.grpcStatuses.has(Number(response.headers.get("grpc-status") ?? "-1"));
          if (mayRetry(attempt, retry?.codes.has(response.status) === true || grpcRefused, false, grpcRefused)) {
            response.body.cancel();
            await pause(retry!, attempt, retryAfterMs(response.headers.get("retry-after")));
            continue;
          }
          return withSkipHeader({ status: response.status, headers: response.headers, body: response.body }, stats);
        }
        if (deadline?.signal.aborted) throw deadline.signal.reason as GatewayError;
        const wanted = retry !== null && ((result.cause === "connect" && retry.onConnectFailure) || (result.cause === "reset" && retry.onReset) || (result.cause === "timeout" && retry.onTimeout));
        if (mayRetry(attempt, wanted, result.cause === "connect")) {
          // Nothing reached the refusing endpoint and the next attempt avoids it: no backoff either.
          if (result.cause === "connect") state.counters.retries++;
          else await pause(retry!, attempt, null);
          continue;
        }
        throw finalError(result.error, wanted && result.cause === "reset", attempt, backend.key, stats.retrySkipped);
      }
    } finally {
      cancelDeadline?.();
      deadlineLink?.unlink();
    }

    async function pause(policy: RetryPolicy, attempt: number, retryAfter: number | null): Promise<void> {
      state.counters.retries++;
      const delay = retryAfter !== null ? Math.min(retryAfter, policy.backoffMaxMs) : Math.min(backoffDelay(policy.backoffMs, attempt, random), policy.backoffMaxMs);
      if (delay <= 0) return;
      try {
        await clock.sleep(delay, requestSignal);
      } catch {
        throw requestSignal?.reason instanceof GatewayError ? requestSignal.reason : new GatewayError("upstream_reset", "request cancelled during retry backoff");
      }
    }
  }
}

/** The one attempt of a request no retry, hedge or route deadline applies to. */
async function single(ctx: AttemptContext, cancellable: boolean, stats: ForwardStats): Promise<GatewayResponse> {
  stats.attempts++;
  const result = await runAttempt(ctx, cancellable);
  stats.endpoint = result.endpoint?.origin ?? stats.endpoint;
  if (result.kind === "response") return withSkipHeader({ status: result.response.status, headers: result.response.headers, body: result.response.body }, stats);
  throw finalError(result.error, false, 1, ctx.backend.key, stats.retrySkipped);
}

/**
 * The answer for a request whose last attempt failed. A connection the retry policy covers that
 * is still being reset (closed before response headers) after the attempts answers 503
 * `upstream_unavailable`, like a refused one, as Envoy and the Gateway API retry conformance
 * tests expect. Without such a policy a reset stays 502 `upstream_reset`.
 */
function finalError(error: GatewayError, coveredReset: boolean, attempts: number, backend: string, skipped: string | null): GatewayError {
  const headers: [string, string][] = skipped !== null ? [["x-meshgate-retry-skipped", skipped]] : [];
  if (coveredReset && error.code === "upstream_reset") {
    return new GatewayError("upstream_unavailable", `backend ${backend}: connection errors on ${attempts === 1 ? "the only attempt" : `all ${attempts} attempts`}; last: ${error.message}`, headers, { cause: error });
  }
  return headers.length > 0 ? new GatewayError(error.code, error.message, headers, { cause: error.cause }) : error;
}

function withSkipHeader(res: GatewayResponse, stats: ForwardStats): GatewayResponse {
  if (stats.retrySkipped !== null) res.headers.append("x-meshgate-retry-skipped", stats.retrySkipped);
  return res;
}

/**
 * Starts one attempt, and another on a different endpoint each time `delay` passes without an
 * answer (up to maxHedges, each paid from the hedge budget, never from the retry budget). The
 * first acceptable answer wins. Losers that had been running for at least `delay` were abandoned
 * for being slow: they end as timeouts and count against their endpoint, exactly as a per-try
 * timeout would have without hedging. Losers launched later just lost the race and count nothing.
 */
function hedged(ctx: AttemptContext, policy: HedgePolicy, budget: RetryBudget, retry: RetryPolicy | null, stats: ForwardStats): Promise<AttemptResult> {
  const { state } = ctx;
  const clock = state.clock;
  return new Promise((resolve) => {
    const running = new Map<(reason: GatewayError) => void, number>();
    let settled = false;
    let hedgesLeft = policy.maxHedges;
    let last: AttemptResult | null = null;
    let cancelTimer: (() => void) | null = null;

    const finish = (result: AttemptResult) => {
      settled = true;
      cancelTimer?.();
      const now = clock.now();
      for (const [abort, startedAt] of running) {
        abort(now - startedAt >= policy.delayMs ? new GatewayError("upstream_timeout", `abandoned after ${Math.round(now - startedAt)} ms: a hedge answered first`) : new GatewayError("upstream_reset", "lost the hedge race"));
      }
      resolve(result);
    };
    const launch = () => {
      let abort: (reason: GatewayError) => void = () => undefined;
      const attempt = runAttempt(ctx, true, (fn) => (abort = fn));
      // Counted as running from launch, before the attempt had a chance to expose its abort.
      const marker = (reason: GatewayError) => abort(reason);
      running.set(marker, clock.now());
      void attempt.then((result) => {
        running.delete(marker);
        if (settled) {
          if (result.kind === "response") result.response.body.cancel();
          return;
        }
        const acceptable = result.kind === "response" && !(retry?.codes.has(result.response.status) ?? false);
        if (acceptable) return finish(result);
        const previous = last;
        last = result;
        if (previous?.kind === "response") previous.response.body.cancel();
        // Nothing else in flight: this round is over, the retry loop decides what next.
        if (running.size === 0) finish(result);
      });
    };
    const scheduleHedge = () => {
      cancelTimer = clock.timer(policy.delayMs, () => {
        if (settled || hedgesLeft === 0) return;
        if (!budget.tryWithdraw()) return;
        hedgesLeft--;
        stats.hedges++;
        state.counters.hedges++;
        launch();
        if (hedgesLeft > 0) scheduleHedge();
      });
    };
    launch();
    scheduleHedge();
  });
}
