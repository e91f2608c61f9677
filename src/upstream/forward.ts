import { GatewayError } from "../pipeline/gateway-error.js";
import type { GatewayRequest, GatewayResponse, RequestBody } from "../pipeline/exchange.js";
import type { Clock, Random } from "../pipeline/runtime-env.js";
import type { CompiledBackend, CompiledRule } from "../policy/snapshot.js";
import { backoffDelay } from "./backoff.js";
import { TransportError, type Transport, type UpstreamResponse } from "./transport.js";
import { pick } from "./weighted.js";

export interface ForwardOptions {
  readonly transport: Transport;
  readonly clock: Clock;
  readonly random: Random;
  /** Largest request body held in memory so a retry can resend it. Default 64 KiB. */
  readonly maxReplayBytes?: number;
}

export type Forward = (
  req: GatewayRequest,
  rule: CompiledRule,
  backend: CompiledBackend,
  clientSignal: AbortSignal | undefined,
) => Promise<GatewayResponse>;

/**
 * The forward stage: one or more attempts at the backend, bounded by the rule's request
 * timeout (whole exchange until response headers) and backend timeout (each attempt),
 * retrying on connect failures and the rule's retry codes while attempts remain.
 */
export function forward(options: ForwardOptions): Forward {
  const { transport, clock, random } = options;
  const maxReplay = options.maxReplayBytes ?? 64 * 1024;

  return async function forwardRequest(req, rule, backend, clientSignal) {
    const retry = rule.retry;
    let tries = 1 + (retry?.attempts ?? 0);
    let body: RequestBody | null = req.body;
    if (tries > 1 && body !== null && !body.replayable) {
      body = req.body = await transport.makeReplayable(body, maxReplay);
      if (!body.replayable) tries = 1;
    }

    // Fast path: no timeouts, no retries — no timers, no extra signals.
    const requestDeadline = rule.requestTimeoutMs !== null && rule.requestTimeoutMs > 0 ? new AbortController() : null;
    const cancelDeadline = requestDeadline
      ? clock.timer(rule.requestTimeoutMs!, () => requestDeadline.abort(new GatewayError("request_timeout", `request timed out after ${rule.requestTimeoutMs} ms`)))
      : null;
    const path = req.path + req.query;
    try {
      for (let attempt = 1; ; attempt++) {
        const endpoint = pick(backend.choose, random);
        if (endpoint === null) throw new GatewayError("upstream_unavailable", `backend ${backend.key} has no endpoints`);
        const attemptTimeout = rule.backendTimeoutMs !== null && rule.backendTimeoutMs > 0 ? rule.backendTimeoutMs : null;
        const attemptAbort = attemptTimeout !== null ? new AbortController() : null;
        const signal = combine(clientSignal, requestDeadline?.signal, attemptAbort?.signal);
        const cancelAttempt = attemptAbort
          ? clock.timer(attemptTimeout!, () => attemptAbort.abort(new GatewayError("upstream_timeout", `upstream did not answer within ${attemptTimeout} ms`)))
          : null;
        const last = attempt >= tries;
        let response: UpstreamResponse;
        try {
          response = await transport.send({ origin: endpoint.origin, method: req.method, path, headers: req.headers, body, signal });
        } catch (err) {
          cancelAttempt?.();
          const failure = attemptFailure(err, signal, backend.key);
          if (last || !retryable(failure, err) || clientSignal?.aborted || requestDeadline?.signal.aborted) throw failure;
          await clock.sleep(backoffDelay(retry?.backoffMs ?? 0, attempt, random), requestDeadline?.signal).catch(() => {
            throw requestDeadline?.signal.reason as GatewayError;
          });
          continue;
        }
        cancelAttempt?.();
        if (!last && retry !== null && retry.codes.has(response.status)) {
          response.body.cancel();
          await clock.sleep(backoffDelay(retry.backoffMs, attempt, random), requestDeadline?.signal).catch(() => {
            throw requestDeadline?.signal.reason as GatewayError;
          });
          continue;
        }
        return { status: response.status, headers: response.headers, body: response.body };
      }
    } finally {
      cancelDeadline?.();
    }
  };
}

function combine(...signals: (AbortSignal | undefined)[]): AbortSignal {
  const live = signals.filter((s): s is AbortSignal => s !== undefined);
  if (live.length === 1) return live[0]!;
  // Created per call: Workers forbid constructing an AbortController at module scope.
  if (live.length === 0) return new AbortController().signal;
  return AbortSignal.any(live);
}

/** Maps what went wrong in one attempt to the gateway error the client would see. */
function attemptFailure(err: unknown, signal: AbortSignal, backend: string): GatewayError {
  if (signal.aborted && signal.reason instanceof GatewayError) return signal.reason;
  if (err instanceof GatewayError) return err;
  if (err instanceof TransportError) {
    switch (err.code) {
      case "connect_failed":
        return new GatewayError("upstream_unavailable", `cannot connect to backend ${backend}`, undefined, { cause: err });
      case "bad_response":
        return new GatewayError("upstream_bad_response", `backend ${backend} sent an invalid response`, undefined, { cause: err });
      case "aborted":
        return new GatewayError("upstream_reset", `request to backend ${backend} was cancelled`, undefined, { cause: err });
      case "reset":
        return new GatewayError("upstream_reset", `backend ${backend} closed the connection`, undefined, { cause: err });
    }
  }
  return new GatewayError("upstream_reset", `request to backend ${backend} failed`, undefined, { cause: err });
}

/** Connect failures and per-attempt timeouts are retried; a request timeout or client abort is final. */
function retryable(failure: GatewayError, err: unknown): boolean {
  if (failure.code === "upstream_timeout") return true;
  return err instanceof TransportError && err.code === "connect_failed";
}
