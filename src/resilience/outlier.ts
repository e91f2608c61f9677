/**
 * What one attempt did, as far as endpoint health is concerned: "5xx" is a status the upstream
 * sent; "gateway-error" a failure the gateway saw on an exchange that reached the endpoint (reset,
 * timeout, a body cut short); "local-origin" a request that never left the gateway because the
 * endpoint refused or could not be reached (Envoy's local-origin failures). A gateway error also
 * counts toward the 5xx streak.
 */
export type AttemptOutcome = "success" | "5xx" | "gateway-error" | "local-origin";

export interface OutlierPolicy {
  readonly consecutive5xx: number;
  readonly consecutiveGatewayErrors: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  readonly maxEjectionPercent: number;
}

/**
 * Always on, even without `outlierDetection`: an endpoint that refused or dropped connections
 * five times in a row is certainly broken, so failover across priorities never depends on
 * the operator having configured anything.
 */
export const GATEWAY_ERROR_DEFAULTS: OutlierPolicy = {
  consecutive5xx: Number.POSITIVE_INFINITY,
  consecutiveGatewayErrors: 5,
  baseEjectionMs: 10_000,
  maxEjectionMs: 300_000,
  maxEjectionPercent: 100,
};

/** Passive health of one endpoint. */
export class EndpointHealth {
  consecutive5xx = 0;
  consecutiveGatewayErrors = 0;
  ejectedUntil = 0;
  ejections = 0;
  /** Set by active health checks; passive ejection is separate. */
  activeHealthy = true;

  healthy(now: number): boolean {
    return this.activeHealthy && now >= this.ejectedUntil;
  }
}

/** Per-Backend health state. Lives outside snapshots so a config reload forgets nothing. */
export class BackendHealth {
  readonly endpoints = new Map<string, EndpointHealth>();
  /** Ejections ever made; for metrics. */
  ejectionsTotal = 0;

  endpoint(origin: string): EndpointHealth {
    let e = this.endpoints.get(origin);
    if (e === undefined) this.endpoints.set(origin, (e = new EndpointHealth()));
    return e;
  }

  /** True when every endpoint is healthy: the balancer's fast path. */
  allHealthy(now: number): boolean {
    for (const e of this.endpoints.values()) if (!e.healthy(now)) return false;
    return true;
  }

  /**
   * Records an attempt and ejects the endpoint when it crossed a threshold, unless that would
   * eject more than maxEjectionPercent of `endpointCount` (one ejection is always allowed).
   * A local-origin failure ejects at once and is not capped: an endpoint that refuses
   * connections serves nobody, and keeping it in rotation only burns attempts (the percentage
   * cap exists so a backend-wide brown-out does not eject everything; a refused connection is
   * not a brown-out). Ejections of every kind count toward the cap for the others.
   * Ejection time grows with each ejection: base × n, capped at max.
   */
  record(origin: string, outcome: AttemptOutcome, policy: OutlierPolicy, endpointCount: number, now: number): boolean {
    const e = this.endpoint(origin);
    if (outcome === "success") {
      e.consecutive5xx = 0;
      e.consecutiveGatewayErrors = 0;
      return false;
    }
    e.consecutive5xx++;
    if (outcome !== "5xx") e.consecutiveGatewayErrors++;
    const tripped = outcome === "local-origin" || e.consecutive5xx >= policy.consecutive5xx || e.consecutiveGatewayErrors >= policy.consecutiveGatewayErrors;
    if (!tripped || now < e.ejectedUntil) return false;
    if (outcome !== "local-origin") {
      let ejected = 0;
      for (const other of this.endpoints.values()) if (other !== e && now < other.ejectedUntil) ejected++;
      if (ejected > 0 && ((ejected + 1) / endpointCount) * 100 > policy.maxEjectionPercent) return false;
    }
    e.ejections++;
    this.ejectionsTotal++;
    e.ejectedUntil = now + Math.min(policy.baseEjectionMs * e.ejections, policy.maxEjectionMs);
    e.consecutive5xx = 0;
    e.consecutiveGatewayErrors = 0;
    return true;
  }
}

/** Health for every Backend, keyed by "namespace/name". */
export class HealthRegistry {
  private readonly backends = new Map<string, BackendHealth>();

  backend(key: string): BackendHealth {
    let b = this.backends.get(key);
    if (b === undefined) this.backends.set(key, (b = new BackendHealth()));
    return b;
  }

  entries(): IterableIterator<[string, BackendHealth]> {
    return this.backends.entries();
  }
}
