import { describe, expect, it } from "vitest";
import type { CompiledBackend, CompiledEndpoint } from "./compiled-backend.js";
import { chooseEndpoint } from "./balancer.js";
import { CircuitBreaker } from "../resilience/circuit-breaker.js";
import { ManualClock } from "../http/manual-clock.js";
import { BackendHealth, GATEWAY_ERROR_DEFAULTS, type OutlierPolicy } from "../resilience/outlier.js";
import { retryAfterMs } from "../resilience/retry-after.js";
import { weightedChoice } from "./weighted.js";
import { DEFAULT_CONNECTION } from "./transport.js";

function seeded(seed = 7): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

function backend(spec: [origin: string, priority: number][], outlier: OutlierPolicy = GATEWAY_ERROR_DEFAULTS): CompiledBackend {
  const endpoints: CompiledEndpoint[] = spec.map(([origin, priority]) => ({ origin, priority, weight: 1, zone: null, cluster: null }));
  const levels = [...new Set(endpoints.map((e) => e.priority))].sort().map((p) => {
    const members = endpoints.filter((e) => e.priority === p);
    return { priority: p, endpoints: members, totalWeight: members.length };
  });
  return { key: "default/b", endpoints, levels, choose: weightedChoice(levels[0]!.endpoints, () => 1), outlier, breaker: null, healthCheck: null, tls: null, connection: DEFAULT_CONNECTION, timeouts: { responseHeadersMs: 0, streamIdleMs: 0 }, explicitTimeouts: { responseHeaders: false, streamIdle: false }, protocol: "http1" };
}

const OUTLIER: OutlierPolicy = { consecutive5xx: 3, consecutiveGatewayErrors: 2, baseEjectionMs: 1_000, maxEjectionMs: 2_500, maxEjectionPercent: 50 };

describe("outlier ejection (virtual time)", () => {
  it("ejects after consecutive 5xx for base × n, capped at max, and lets the endpoint back after", () => {
    const h = new BackendHealth();
    const now = 0;
    expect(h.record("a", "5xx", OUTLIER, 4, now)).toBe(false);
    expect(h.record("a", "5xx", OUTLIER, 4, now)).toBe(false);
    expect(h.record("a", "5xx", OUTLIER, 4, now)).toBe(true);
    expect(h.endpoint("a").healthy(999)).toBe(false);
    expect(h.endpoint("a").healthy(1_000)).toBe(true);
    for (let i = 0; i < 2; i++) h.record("a", "gateway-error", OUTLIER, 4, 1_000);
    expect(h.endpoint("a").ejectedUntil).toBe(3_000); // second ejection: 2 × base
    for (let i = 0; i < 2; i++) h.record("a", "gateway-error", OUTLIER, 4, 3_000);
    expect(h.endpoint("a").ejectedUntil).toBe(5_500); // third: 3 × base, capped at 2.5 s
  });

  it("a success resets the streak", () => {
    const h = new BackendHealth();
    h.record("a", "5xx", OUTLIER, 4, 0);
    h.record("a", "5xx", OUTLIER, 4, 0);
    h.record("a", "success", OUTLIER, 4, 0);
    expect(h.record("a", "5xx", OUTLIER, 4, 0)).toBe(false);
  });

  it("never ejects more than maxEjectionPercent, but always allows one", () => {
    const h = new BackendHealth();
    const eject = (o: string) => [1, 2, 3].map(() => h.record(o, "5xx", OUTLIER, 4, 0)).includes(true);
    expect(eject("a")).toBe(true); // 25%
    expect(eject("b")).toBe(true); // 50%
    expect(eject("c")).toBe(false); // would be 75%
    const single = new BackendHealth();
    expect([1, 2, 3].map(() => single.record("only", "5xx", { ...OUTLIER, maxEjectionPercent: 0 }, 1, 0)).includes(true)).toBe(true);
  });
});

describe("priority failover", () => {
  const b = backend([["a1", 0], ["a2", 0], ["b1", 1]]);
  const share = (h: BackendHealth, now: number) => {
    const random = seeded();
    const counts: Record<string, number> = {};
    for (let i = 0; i < 20_000; i++) {
      const e = chooseEndpoint(b, h, now, random)!.origin;
      counts[e] = (counts[e] ?? 0) + 1;
    }
    return (o: string) => (counts[o] ?? 0) / 20_000;
  };

  it("keeps all traffic on the healthy best level", () => {
    const s = share(new BackendHealth(), 0);
    expect(s("b1")).toBe(0);
    expect(s("a1")).toBeCloseTo(0.5, 1);
  });

  it("overflows in proportion to lost health (50% healthy × 1.4 = 70% stays)", () => {
    const h = new BackendHealth();
    h.endpoint("a1").ejectedUntil = 10_000;
    const s = share(h, 0);
    expect(s("a2")).toBeCloseTo(0.7, 1);
    expect(s("b1")).toBeCloseTo(0.3, 1);
    expect(s("a1")).toBe(0);
  });

  it("moves everything when the level is down and back when it recovers", () => {
    const h = new BackendHealth();
    h.endpoint("a1").ejectedUntil = 10_000;
    h.endpoint("a2").activeHealthy = false;
    expect(share(h, 0)("b1")).toBe(1);
    h.endpoint("a2").activeHealthy = true;
    expect(share(h, 10_000)("b1")).toBe(0);
  });

  it("avoids endpoints already tried, and panics to any endpoint when none is healthy", () => {
    const h = new BackendHealth();
    expect(chooseEndpoint(b, h, 0, seeded(), new Set(["a1"]))!.origin).toBe("a2");
    for (const o of ["a1", "a2", "b1"]) h.endpoint(o).ejectedUntil = 10_000;
    expect(chooseEndpoint(b, h, 0, seeded())).not.toBeNull();
  });
});

describe("circuit breaker", () => {
  it("queues up to maxPendingRequests and rejects beyond with backend_overloaded", async () => {
    const breaker = new CircuitBreaker({ maxRequests: 2, maxPendingRequests: 1 });
    const r1 = (await breaker.acquire("b")) as () => void;
    await breaker.acquire("b");
    const queued = breaker.acquire("b");
    expect(() => breaker.acquire("b")).toThrow(expect.objectContaining({ code: "backend_overloaded", status: 503 }));
    r1();
    await expect(Promise.resolve(queued)).resolves.toBeTypeOf("function");
    expect(breaker.inFlight).toBe(2);
    expect(breaker.rejected).toBe(1);
  });
});

describe("Retry-After", () => {
  it("reads seconds and HTTP dates", () => {
    expect(retryAfterMs("3")).toBe(3_000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs("soon")).toBeNull();
    expect(retryAfterMs(undefined)).toBeNull();
  });
});

describe("ManualClock", () => {
  it("fires timers in order only when advanced", async () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    clock.timer(200, () => fired.push(200));
    clock.timer(100, () => fired.push(100));
    const slept = clock.sleep(150).then(() => fired.push(150));
    await clock.advance(99);
    expect(fired).toEqual([]);
    await clock.advance(200);
    await slept;
    expect(fired).toEqual([100, 150, 200]);
  });
});
