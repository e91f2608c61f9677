/** One upstream attempt, for tracing (recorded only when a trace context is given). */
export interface AttemptSpan {
  readonly spanId: string;
  readonly endpoint: string;
  readonly startMs: number;
  endMs: number;
  status: number | null;
  error: string | null;
}

/** What forwarding did, for metrics, the access log and traces. */
export interface ForwardStats {
  attempts: number;
  hedges: number;
  endpoint: string | null;
  retrySkipped: string | null;
  /** Set by the pipeline when tracing is on: each attempt then gets its own span and traceparent. */
  trace?: { readonly traceId: string; readonly flags: string; readonly spans: AttemptSpan[] };
}
