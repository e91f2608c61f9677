/**
 * GCRA (generic cell rate algorithm): a token bucket kept as one number, the theoretical
 * arrival time (TAT). Exact, O(1), and one value to store, which is what makes it cheap to run
 * atomically in Redis or a Durable Object.
 */
export interface GcraParams {
  /** Milliseconds one request "costs" at the sustained rate: period / requests. */
  readonly emissionMs: number;
  /** Bucket depth in time: emissionMs × burst. */
  readonly toleranceMs: number;
  readonly cost: number;
}

export interface GcraResult {
  readonly allowed: boolean;
  /** The TAT to store (unchanged when denied). */
  readonly tat: number;
  /** How far ahead of now the bucket is after this decision (0 = full bucket). */
  readonly fillMs: number;
  /** When denied: wait this long before the same request could pass. */
  readonly retryAfterMs: number;
}

export function gcraParams(requests: number, periodMs: number, burst: number, cost: number): GcraParams {
  const emissionMs = periodMs / requests;
  return { emissionMs, toleranceMs: emissionMs * burst, cost };
}

export function gcra(storedTat: number | null, now: number, p: GcraParams): GcraResult {
  const tat = storedTat === null || storedTat < now ? now : storedTat;
  const next = tat + p.emissionMs * p.cost;
  // A tiny epsilon keeps float rounding (period / requests) from refusing an on-time request.
  if (next - now > p.toleranceMs + 1e-6) return { allowed: false, tat, fillMs: tat - now, retryAfterMs: next - now - p.toleranceMs };
  return { allowed: true, tat: next, fillMs: next - now, retryAfterMs: 0 };
}

/** Requests still allowed right now, for the RateLimit header. */
export function remaining(fillMs: number, p: GcraParams): number {
  return Math.max(0, Math.floor((p.toleranceMs - fillMs + 1e-6) / p.emissionMs));
}
