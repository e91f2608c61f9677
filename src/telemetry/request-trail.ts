import { grpcErrorResponse, isGrpcRequest } from "../http/grpc.js";
import { isResponseBody, type BodyEnd, type GatewayRequest, type GatewayResponse } from "../http/exchange.js";
import { errorResponse } from "../http/error-response.js";
import { toGatewayError, type GatewayError } from "../http/gateway-error.js";
import type { Clock } from "../http/runtime-env.js";
import type { RequestIds } from "../hygiene/hygiene.js";
import { AccessDenied, type SecurityResult } from "../identity/security-stage.js";
import { RateLimited, type RateLimitResult } from "../ratelimit/rate-limit-stage.js";
import type { Snapshot } from "../snapshot/snapshot.js";
import type { ForwardStats } from "../upstream/forward-stats.js";
import type { SpanRecord } from "./otlp-exporter.js";
import type { RequestOutcome } from "./request-outcome.js";
import { responseFlags } from "./response-flags.js";
import { recordSpans } from "./request-spans.js";
import type { MeshRef } from "../routing/mesh.js";

export interface TrailSinks {
  readonly clock: Clock;
  /** Metrics and the access log. */
  readonly observe?: ((event: RequestOutcome) => void) | undefined;
  readonly tracer?: { add(span: SpanRecord): void } | undefined;
  /** Failures the client does not see in full (internal errors' causes, upstream causes). */
  readonly onError?: ((err: unknown, context: string) => void) | undefined;
}

/**
 * What one request went through, written by the stages as they run: the single source of its
 * access-log line, metrics, spans and error answer.
 */
export class RequestTrail {
  ids: RequestIds | null = null;
  /** Envoy-style response flag ("-" when none). */
  flags = "-";
  routeId: string | null = null;
  /** The chosen backendRef, "namespace/name": the destination Service Service-targeted policies key on. */
  backend: string | null = null;
  /** East-west: which Service the authority named and how its route was reached; null for ingress traffic. */
  mesh: MeshRef | null = null;
  error: GatewayError | null = null;
  security: SecurityResult | null = null;
  rateLimit: RateLimitResult | null = null;
  readonly forward: ForwardStats = { attempts: 0, hedges: 0, endpoint: null, retrySkipped: null };

  constructor(
    readonly request: GatewayRequest,
    readonly snapshot: Snapshot,
    private readonly sinks: TrailSinks,
  ) {}

  /** Hygiene assigned the request its ids; a sampled request then traces each upstream attempt. */
  identified(ids: RequestIds): void {
    this.ids = ids;
    if (this.sinks.tracer && ids.sampled) this.forward.trace = { traceId: ids.traceId, flags: "01", spans: [] };
  }

  /** Fault injection answered instead of the upstream (flag FI). */
  faulted(response: GatewayResponse): GatewayResponse {
    this.flags = "FI";
    return response;
  }

  /** Any stage's error as the gateway's answer: the one place errors become responses. */
  fail(err: unknown): GatewayResponse {
    const error = (this.error = toGatewayError(err));
    if (err instanceof AccessDenied) this.security = err.result;
    if (err instanceof RateLimited) this.rateLimit = err.result;
    this.flags = responseFlags(error.code);
    if (error.code === "internal") this.sinks.onError?.(err, "pipeline");
    // Client errors (bad tokens, denied requests) are the access log's business, not the error log's.
    else if (error.cause !== undefined && error.status >= 500) this.sinks.onError?.(error.cause, `${error.code} (${error.message})`);
    // A gRPC client reads only grpc-status: the same error, as a trailers-only gRPC answer.
    return isGrpcRequest(this.request.headers) ? grpcErrorResponse(error) : errorResponse(error);
  }

  /** Headers every answer carries, then the report once the response (body included) is done. */
  finish(response: GatewayResponse): void {
    // Which config answered: operators compare this across instances during a rollout.
    response.headers.append("x-meshgate-config-version", this.snapshot.version);
    const rateLimit = this.rateLimit;
    if (rateLimit !== null && rateLimit.outcome === "allowed") for (const [name, value] of rateLimit.headers) response.headers.append(name, value);
    if (!this.sinks.observe && !this.sinks.tracer) return;
    const report = (end?: BodyEnd) => this.report(response, end);
    // Streaming bodies are reported when they finish, so durations and sizes are whole.
    if (isResponseBody(response.body) && response.body.onSettled) response.body.onSettled(report);
    else report();
  }

  private report(response: GatewayResponse, end?: BodyEnd): void {
    // A body the upstream broke off after the headers went out: the client saw a failure.
    if (end === "failed" && this.flags === "-") this.flags = "UR";
    else if (end === "timeout" && this.flags === "-") this.flags = "UT";
    const { clock, observe, tracer } = this.sinks;
    const ids = this.ids;
    if (tracer && this.forward.trace && ids) recordSpans(tracer, ids, this.request, response, this.forward, this.routeId, clock.now());
    if (!observe) return;
    const body = response.body;
    const bytes = typeof body === "string" ? body.length : body instanceof Uint8Array ? body.byteLength : body === null ? 0 : (body.bytes ?? null);
    observe({ request: this.request, requestId: ids?.requestId ?? "", ids, response, flags: this.flags, endTime: clock.now(), responseBytes: bytes, snapshot: this.snapshot, routeId: this.routeId, backend: this.backend, mesh: this.mesh, error: this.error, forward: this.forward, security: this.security, rateLimit: this.rateLimit });
  }
}
