export interface RetryPolicy {
  /** Retries after the first try (Gateway API `attempts`). */
  readonly attempts: number;
  readonly codes: ReadonlySet<number>;
  readonly onConnectFailure: boolean;
  readonly onReset: boolean;
  readonly onTimeout: boolean;
  /** gRPC statuses (numbers) retried when an upstream answers trailers-only with one of them. */
  readonly grpcStatuses?: ReadonlySet<number>;
  /** Base delay; grows exponentially with jitter up to `backoffMaxMs`. */
  readonly backoffMs: number;
  readonly backoffMaxMs: number;
  readonly budget: { readonly ratio: number; readonly minPerSecond: number };
  /** Retry POST/PATCH too (a connect failure is always retried: nothing was sent). */
  readonly nonIdempotent: boolean;
  readonly maxBufferBytes: number;
}

export interface HedgePolicy {
  readonly delayMs: number;
  readonly maxHedges: number;
  /** Hedges' own token bucket (per Backend), separate from the retry budget. */
  readonly budget: { readonly ratio: number; readonly minPerSecond: number };
}

export interface FaultPolicy {
  readonly abort: { readonly status: number; readonly fraction: number } | null;
  readonly delay: { readonly ms: number; readonly fraction: number } | null;
  /** Lower-case header name; when set only requests carrying it are affected. */
  readonly header: string | null;
}

export interface AffinityPolicy {
  readonly header: string | null;
  readonly cookie: string | null;
}
