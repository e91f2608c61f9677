import type { GatewayRequest } from "../http/exchange.js";
import { GatewayError } from "../http/gateway-error.js";
import type { Principal } from "../http/principal.js";
import type { Clock } from "../http/runtime-env.js";
import type { CompiledLimitRule, CompiledRateLimit } from "./compiled.js";
import type { LimiterDecision, LimiterStore } from "./limiter-store.js";
import { LimiterStoreFullError, MemoryLimiterStore } from "./memory-store.js";

/** A deployment's stores, with in-process buckets unless another local store is given. */
export function limiterStores(given: LimiterStoreOptions | undefined, clock: Pick<Clock, "now">): LimiterStores {
  return { local: given?.local ?? new MemoryLimiterStore(clock, given?.localMaxKeys !== undefined ? { maxKeys: given.localMaxKeys } : {}), global: given?.global ?? null, ...(given?.binding ? { binding: given.binding } : {}) };
}

/** What a deployment passes in: any store it has, and the size of the in-process one. */
export type LimiterStoreOptions = Partial<LimiterStores> & {
  /** Buckets the in-process store holds at most (default 100,000); live ones are never evicted. */
  readonly localMaxKeys?: number | undefined;
};

/** The stores a deployment offers; a policy picks one by `store`. */
export interface LimiterStores {
  readonly local: LimiterStore;
  /** Redis on Node, Durable Objects on Workers; null when the deployment has none. */
  readonly global: LimiterStore | null;
  /** Workers rate-limiting bindings by name. */
  readonly binding?: (name: string) => LimiterStore | null;
}

/** `store_full_*`: a new key met an in-process store full of live buckets (never evicted); failureMode answered. */
export type RateLimitOutcome = "allowed" | "limited" | "shadow_limited" | "store_error_open" | "store_error_closed" | "store_full_open" | "store_full_closed";

export interface RateLimitResult {
  readonly policy: string;
  readonly rule: string;
  readonly keyKind: string;
  readonly outcome: RateLimitOutcome;
  readonly decision: LimiterDecision | null;
  /** RateLimit-Policy / RateLimit header lines for the response. */
  readonly headers: readonly (readonly [string, string])[];
  readonly error: string | null;
}

/** A 429 (or a 503 when the store failed closed) that remembers the decision, for logs and metrics. */
export class RateLimited extends GatewayError {
  constructor(
    code: "rate_limited" | "rate_limit_unavailable",
    message: string,
    headers: readonly (readonly [string, string])[],
    readonly result: RateLimitResult,
    cause?: unknown,
  ) {
    super(code, message, headers, cause === undefined ? undefined : { cause });
  }
}

/**
 * Applies the first matching rule of a RateLimitPolicy. Never waits on a store longer than the
 * policy's timeout; a failing store answers by `failureMode`. Returns null when no rule applies.
 * In-process buckets decide synchronously (no promise, no timer): the result is returned as is.
 */
export function applyRateLimit(policy: CompiledRateLimit, principal: Principal | null, req: GatewayRequest, stores: LimiterStores, clock: Clock): RateLimitResult | null | Promise<RateLimitResult | null> {
  let rule: CompiledLimitRule | undefined;
  let key: string | null = null;
  for (const r of policy.rules) {
    if (!r.matches(principal, req)) continue;
    key = r.key(principal, req);
    if (key === null) continue;
    rule = r;
    break;
  }
  if (rule === undefined || key === null) return null;
  const store = pickStore(policy, stores);
  if (store?.decideNow) {
    let decision: LimiterDecision;
    try {
      decision = store.decideNow(key, rule.params);
    } catch (err) {
      return storeFailed(policy, rule, err);
    }
    return conclude(policy, rule, decision);
  }
  if (store === null) return storeFailed(policy, rule, new Error(storeMissing(policy)));
  return withTimeout(store.decide(key, rule.params), policy.timeoutMs, clock).then(
    (decision) => conclude(policy, rule, decision),
    (err: unknown) => storeFailed(policy, rule, err),
  );
}

function conclude(policy: CompiledRateLimit, rule: CompiledLimitRule, decision: LimiterDecision): RateLimitResult {
  // Plain literals, no spreads: this runs on every limited route's request.
  if (decision.allowed) return { policy: policy.name, rule: rule.name, keyKind: rule.keyKind, outcome: "allowed", decision, headers: policy.responseHeaders ? rateLimitHeaders(rule, decision) : NO_HEADERS, error: null };
  if (policy.shadow) return { policy: policy.name, rule: rule.name, keyKind: rule.keyKind, outcome: "shadow_limited", decision, headers: NO_HEADERS, error: null };
  const headers = policy.responseHeaders ? rateLimitHeaders(rule, decision) : NO_HEADERS;
  const result: RateLimitResult = { policy: policy.name, rule: rule.name, keyKind: rule.keyKind, outcome: "limited", decision, headers, error: null };
  const retryAfter = String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
  throw new RateLimited("rate_limited", `rate limit ${rule.name} of ${policy.name} exceeded (${rule.requests} per ${rule.periodMs / 1000}s); retry after ${retryAfter}s`, [["retry-after", retryAfter], ...headers], result);
}

const NO_HEADERS: readonly (readonly [string, string])[] = [];

function storeFailed(policy: CompiledRateLimit, rule: CompiledLimitRule, err: unknown): RateLimitResult {
  const message = err instanceof Error ? err.message : String(err);
  const base = { policy: policy.name, rule: rule.name, keyKind: rule.keyKind, decision: null, headers: [], error: message };
  if (err instanceof LimiterStoreFullError) {
    if (policy.failureMode === "open") return { ...base, outcome: "store_full_open" };
    const retryAfter = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
    throw new RateLimited("rate_limit_unavailable", `rate-limit store is full of live buckets and policy ${policy.name} fails closed; retry after ${retryAfter}s`, [["retry-after", retryAfter]], { ...base, outcome: "store_full_closed" }, err);
  }
  if (policy.failureMode === "open") return { ...base, outcome: "store_error_open" };
  throw new RateLimited("rate_limit_unavailable", `rate-limit store unavailable and policy ${policy.name} fails closed`, [], { ...base, outcome: "store_error_closed" }, err);
}

function pickStore(policy: CompiledRateLimit, stores: LimiterStores): LimiterStore | null {
  if (policy.store === "local") return stores.local;
  if (policy.store === "global") return stores.global;
  return stores.binding?.(policy.binding!) ?? null;
}

function storeMissing(policy: CompiledRateLimit): string {
  if (policy.store === "global") return "this deployment has no global rate-limit store (Node: serve --ratelimit-store redis://...; Workers: the RATE_LIMITER Durable Object binding)";
  return `this deployment has no rate-limiting binding named ${policy.binding}`;
}

/** draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy: "name";q=100;w=10` and `RateLimit: "name";r=42;t=3`. */
function rateLimitHeaders(rule: CompiledLimitRule, d: LimiterDecision): readonly (readonly [string, string])[] {
  if (d.remaining === null) return NO_HEADERS;
  return [
    ["ratelimit-policy", rule.policyHeader],
    ["ratelimit", `${rule.stateHeaderPrefix}${d.remaining};t=${Math.ceil(d.resetMs / 1000)}`],
  ];
}

function withTimeout<T>(promise: Promise<T>, ms: number, clock: Clock): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = clock.timer(ms, () => reject(new Error(`rate-limit store did not answer within ${ms} ms`)));
    promise.then(
      (v) => {
        cancel();
        resolve(v);
      },
      (err: unknown) => {
        cancel();
        reject(err);
      },
    );
  });
}
