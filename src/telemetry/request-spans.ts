import type { GatewayRequest, GatewayResponse } from "../http/exchange.js";
import type { RequestIds } from "../hygiene/hygiene.js";
import type { ForwardStats } from "../upstream/forward-stats.js";
import type { SpanRecord } from "./otlp-exporter.js";

/** One server span per request and one client span per upstream attempt, parented to it. */
export function recordSpans(tracer: { add(span: SpanRecord): void }, ids: RequestIds, req: GatewayRequest, res: GatewayResponse, stats: ForwardStats, routeId: string | null, now: number): void {
  const endMs = Date.now();
  const startMs = endMs - (now - req.startTime);
  tracer.add({
    traceId: ids.traceId,
    spanId: ids.spanId,
    parentSpanId: ids.parentSpanId,
    name: `${req.method} ${routeId ?? "no route"}`,
    kind: 2,
    startMs,
    endMs,
    attributes: { "http.request.method": req.method, "url.path": req.path, "server.address": req.host, "http.response.status_code": res.status, "meshgate.route": routeId ?? "", "meshgate.request_id": ids.requestId },
    error: res.status >= 500,
    ...(ids.link ? { links: [ids.link] } : {}),
  });
  for (const a of stats.trace?.spans ?? []) {
    tracer.add({
      traceId: ids.traceId,
      spanId: a.spanId,
      parentSpanId: ids.spanId,
      name: `upstream ${req.method}`,
      kind: 3,
      startMs: a.startMs,
      endMs: a.endMs || endMs,
      attributes: { "server.address": a.endpoint, "http.response.status_code": a.status ?? 0, ...(a.error ? { "error.type": a.error } : {}) },
      error: a.error !== null || (a.status ?? 0) >= 500,
    });
  }
}
