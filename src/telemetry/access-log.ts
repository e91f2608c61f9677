import type { RequestOutcome } from "./request-outcome.js";
import { redactQuery } from "../http/redact.js";
import { grpcStatusOfResponse } from "../http/grpc.js";

/**
 * One JSON object per request with the fields Envoy/Istio users look for. Never logs header
 * values other than the ones listed (no authorization, cookies, API keys or tokens).
 */
export function accessLogEntry(o: RequestOutcome, wallClockStart: number): Record<string, unknown> {
  const req = o.request;
  return {
    start_time: new Date(wallClockStart).toISOString(),
    method: req.method,
    authority: req.headers.get("host") ?? req.host,
    // A credential in the query (one no policy read, or one forwarded) never reaches the log.
    path: req.path + redactQuery(req.query, o.snapshot.credentials.params),
    protocol: req.protocol === "h2" ? "HTTP/2" : "HTTP/1.1",
    response_code: o.response.status,
    // gRPC calls: the call's status (HTTP is 200 for nearly all of them); null otherwise.
    grpc_status: grpcStatusOfResponse(o.response),
    response_flags: o.flags,
    error_code: o.error?.code ?? null,
    bytes_received: req.body?.length ?? 0,
    bytes_sent: o.responseBytes,
    duration_ms: Math.round((o.endTime - req.startTime) * 1000) / 1000,
    upstream_host: o.forward.endpoint,
    upstream_attempts: o.forward.attempts,
    retry_skipped: o.forward.retrySkipped,
    route_name: o.routeId,
    backend: o.backend,
    mesh_service: o.mesh?.service ?? null,
    mesh_route: o.mesh?.role ?? null,
    downstream_remote_address: req.clientAddress,
    user_agent: req.headers.get("user-agent") ?? null,
    principal: o.security?.principal?.id ?? null,
    authorization: o.security?.decision ? { policy: o.security.policy, allowed: o.security.decision.allowed, rule: o.security.decision.rule, dry_run_denied: o.security.dryRunDenied } : null,
    rate_limit: o.rateLimit ? { policy: o.rateLimit.policy, rule: o.rateLimit.rule, result: o.rateLimit.outcome, ...(o.rateLimit.error ? { error: o.rateLimit.error } : {}) } : null,
    request_id: o.requestId,
    trace_id: o.ids?.traceId ?? null,
    config_version: o.snapshot.version,
  };
}
