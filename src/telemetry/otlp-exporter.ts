/** A finished span, as the gateway records it. Times are Unix epoch milliseconds. */
export interface SpanRecord {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | null;
  readonly name: string;
  /** 2 = server (the request at the gateway), 3 = client (one upstream attempt). */
  readonly kind: 2 | 3;
  readonly startMs: number;
  readonly endMs: number;
  readonly attributes: Readonly<Record<string, string | number>>;
  readonly error: boolean;
  /** Related spans that are not the parent (an untrusted caller's trace context). */
  readonly links?: readonly { readonly traceId: string; readonly spanId: string }[];
}

export interface OtlpExporterOptions {
  /** Collector base URL; spans go to `${endpoint}/v1/traces` (OTLP/HTTP, JSON encoding). */
  readonly endpoint: string;
  readonly serviceName?: string;
  readonly maxBatch?: number;
  readonly headers?: Record<string, string>;
  readonly fetch?: typeof fetch;
  readonly onError?: (err: unknown) => void;
}

/**
 * Batches spans and posts them as OTLP/HTTP JSON. Never blocks a request: `add` only queues;
 * the runtime calls `flush` on a timer (Node) or through waitUntil (Workers). A failed export
 * is dropped and reported, never retried into unbounded memory.
 *
 * Hand-written rather than @opentelemetry/exporter-trace-otlp-http: that SDK pulls Node-only
 * pieces and ~1 MB into a Worker, while the wire format is one small JSON document.
 */
export class OtlpExporter {
  private queue: SpanRecord[] = [];
  private readonly maxBatch: number;
  private readonly url: string;
  private readonly doFetch: typeof fetch;
  dropped = 0;
  exported = 0;

  constructor(private readonly options: OtlpExporterOptions) {
    this.maxBatch = options.maxBatch ?? 512;
    this.url = `${options.endpoint.replace(/\/$/, "")}/v1/traces`;
    this.doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  add(span: SpanRecord): void {
    if (this.queue.length >= this.maxBatch * 4) {
      this.dropped++;
      return;
    }
    this.queue.push(span);
  }

  get pending(): number {
    return this.queue.length;
  }

  async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        const res = await this.doFetch(this.url, { method: "POST", headers: { "content-type": "application/json", ...this.options.headers }, body: JSON.stringify(this.encode(batch)) });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`collector answered ${res.status}`);
        this.exported += batch.length;
      } catch (err) {
        this.dropped += batch.length;
        this.options.onError?.(err);
        return;
      }
    }
  }

  private encode(spans: readonly SpanRecord[]): unknown {
    return {
      resourceSpans: [
        {
          resource: { attributes: [{ key: "service.name", value: { stringValue: this.options.serviceName ?? "meshgate" } }] },
          scopeSpans: [
            {
              scope: { name: "meshgate" },
              spans: spans.map((s) => ({
                traceId: s.traceId,
                spanId: s.spanId,
                ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
                name: s.name,
                kind: s.kind,
                startTimeUnixNano: msToNanos(s.startMs),
                endTimeUnixNano: msToNanos(s.endMs),
                attributes: Object.entries(s.attributes).map(([key, v]) => ({ key, value: typeof v === "number" ? { intValue: String(Math.round(v)) } : { stringValue: v } })),
                status: { code: s.error ? 2 : 1 },
                ...(s.links && s.links.length > 0 ? { links: s.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId })) } : {}),
              })),
            },
          ],
        },
      ],
    };
  }
}

function msToNanos(ms: number): string {
  return (BigInt(Math.floor(ms)) * 1_000_000n + BigInt(Math.round((ms % 1) * 1_000_000))).toString();
}
