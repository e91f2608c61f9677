import { describe, expect, it } from "vitest";
import type { GatewayRequest } from "../http/exchange.js";
import { HeaderList } from "../http/header-list.js";
import { compileSnapshot } from "../snapshot/compile-snapshot.js";
import type { CompiledBackend } from "./compiled-backend.js";
import type { CompiledRule } from "../routing/compiled-rule.js";
import { forward } from "./forward.js";
import type { ForwardStats } from "./forward-stats.js";
import { ManualClock } from "../http/manual-clock.js";
import { RetryBudget } from "../resilience/retry-budget.js";
import { TransportError, type Transport, type UpstreamRequest, type UpstreamResponse } from "./transport.js";
import { UpstreamState } from "./upstream-state.js";

/** The whole forward stage in virtual time: a scripted transport, a ManualClock, seeded randomness. */
async function setup(endpoints: string[], backendExtra: string, traffic: string) {
  const yaml = `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: b }
spec:
  endpoints:
${endpoints.map((e) => `    - url: ${e}`).join("\n")}
${backendExtra}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r }
spec:
  rules: [{ backendRefs: [{ name: b }] }]
---
apiVersion: meshgate.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: t }
spec:
  targetRefs: [{ kind: HTTPRoute, name: r }]
${traffic}`;
  const snapshot = await compileSnapshot([{ name: "p.yaml", text: yaml }], { location: "test", files: ["p.yaml"] });
  const rule = snapshot.routes.entries[0]!.rule as CompiledRule;
  const backend = snapshot.backends.get("default/b") as CompiledBackend;
  const clock = new ManualClock();
  const state = new UpstreamState(clock);
  let seed = 11;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return { rule, backend, clock, state, random };
}

type Behaviour = (req: UpstreamRequest) => Promise<UpstreamResponse>;

/** A transport whose every endpoint behaves as scripted; counts attempts per endpoint and per virtual second. */
class ScriptedTransport implements Transport {
  readonly sends = new Map<string, number>();
  readonly perSecond: number[] = [];
  constructor(
    private readonly clock: ManualClock,
    private readonly behave: (origin: string) => Behaviour,
  ) {}
  send(req: UpstreamRequest): Promise<UpstreamResponse> {
    this.sends.set(req.origin, (this.sends.get(req.origin) ?? 0) + 1);
    const second = Math.floor(this.clock.now() / 1000);
    this.perSecond[second] = (this.perSecond[second] ?? 0) + 1;
    return this.behave(req.origin)(req);
  }
  async makeReplayable(body: never): Promise<never> {
    return body;
  }
}

const answer = (status: number): Behaviour => async () => ({ status, headers: new HeaderList(), body: { cancel: () => undefined } });
const refuse: Behaviour = async () => {
  throw new TransportError("connect_failed", "ECONNREFUSED");
};
/** Never answers; rejects with the cancel reason when the attempt is cancelled (per-try timeout, lost hedge). */
const hang: Behaviour = (req) =>
  new Promise((_, reject) => {
    req.cancelHook?.((reason) => reject(reason));
    const signal = req.signal;
    signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
  });

function request(clock: ManualClock): GatewayRequest {
  return { method: "GET", scheme: "http", host: "example.com", hostPort: null, listenerPort: 80, path: "/", query: "", headers: new HeaderList(["host", "example.com"]), body: null, clientAddress: "127.0.0.1", startTime: clock.now() };
}

const stats = (): ForwardStats => ({ attempts: 0, hedges: 0, endpoint: null, retrySkipped: null });

/** Sends `perSecond` requests a second for `seconds`, evenly spaced in virtual time; resolves with every status. */
async function drive(env: Awaited<ReturnType<typeof setup>>, transport: Transport, perSecond: number, seconds: number, onSecond?: (s: number) => void): Promise<number[]> {
  const send = forward({ transport, state: env.state, random: env.random });
  const statuses: Promise<number>[] = [];
  const step = 1000 / perSecond;
  for (let s = 0; s < seconds; s++) {
    onSecond?.(s);
    for (let i = 0; i < perSecond; i++) {
      statuses.push(send(request(env.clock), env.rule, env.backend, undefined, stats()).then((r) => r.status, (e: { status: number }) => e.status));
      await env.clock.advance(step);
    }
  }
  await env.clock.advance(10_000);
  return Promise.all(statuses);
}

describe("retry budget: a token bucket, bounded in every window (virtual time)", () => {
  it("cannot save credit from healthy traffic: the balance is capped at max(1, minPerSecond)", async () => {
    const clock = new ManualClock();
    const budget = new RetryBudget(0.2, 10, clock);
    for (let i = 0; i < 10_000; i++) budget.recordRequest();
    await clock.advance(60_000);
    let allowed = 0;
    while (budget.tryWithdraw()) allowed++;
    expect(allowed).toBe(10);
  });

  it("pays ratio per request and minPerSecond per second, nothing more", async () => {
    const clock = new ManualClock();
    const budget = new RetryBudget(0.2, 0, clock);
    expect(budget.capacity).toBe(1);
    let allowed = 0;
    for (let i = 0; i < 100; i++) {
      budget.recordRequest();
      if (budget.tryWithdraw()) allowed++;
    }
    expect(allowed).toBe(20); // one retry for every five requests, exactly
    const floor = new RetryBudget(0, 4, clock);
    while (floor.tryWithdraw());
    await clock.advance(250);
    expect(floor.tryWithdraw()).toBe(true); // 4/s refills one token every 250 ms
    expect(floor.tryWithdraw()).toBe(false);
  });

  it("a 10 s outage after healthy traffic: attempts per request stay ≤ 1 + ratio + 2 × minPerSecond / rate in every second", async () => {
    const env = await setup(["http://a:8080", "http://b:8080"], "", "  retry: { attempts: 2, codes: [503], backoff: { base: 1ms, max: 1ms }, budget: { ratio: 0.2, minPerSecond: 10 } }\n");
    let down = false;
    const transport = new ScriptedTransport(env.clock, () => (req) => answer(down ? 503 : 200)(req));
    const rate = 200;
    const statuses = await drive(env, transport, rate, 15, (s) => (down = s >= 5));
    expect(statuses.length).toBe(rate * 15);
    for (let s = 0; s < 15; s++) {
      const attempts = transport.perSecond[s] ?? 0;
      if (s < 5) expect(attempts).toBe(rate); // healthy: no retries
      else expect(attempts / rate).toBeLessThanOrEqual(1 + 0.2 + (2 * 10) / rate);
    }
    // Over the whole outage the ratio converges on 1 + ratio + minPerSecond / rate.
    const outage = transport.perSecond.slice(5, 15).reduce((a, b) => a + b, 0);
    expect(outage / (rate * 10)).toBeLessThanOrEqual(1 + 0.2 + 10 / rate + 10 / (rate * 10));
    expect(outage / (rate * 10)).toBeGreaterThan(1.2);
  });
});

describe("local-origin failures (virtual time)", () => {
  it("two of three endpoints refuse: both are avoided at once, no request fails, no budget is spent", async () => {
    // The README's recommended outlier settings, with maxEjectionPercent 50 that used to keep a dead endpoint in rotation.
    const env = await setup(
      ["http://dead1:8080", "http://dead2:8080", "http://good:8080"],
      "  outlierDetection: { consecutive5xx: 5, consecutiveGatewayErrors: 3, baseEjectionTime: 30s, maxEjectionTime: 300s, maxEjectionPercent: 50 }\n",
      "  retry: { attempts: 2, codes: [502, 503, 504], on: [connect-failure, reset, timeout], perTryTimeout: 500ms, backoff: { base: 25ms, max: 250ms }, budget: { ratio: 0, minPerSecond: 0 } }\n",
    );
    const transport = new ScriptedTransport(env.clock, (origin) => (origin === "http://good:8080" ? answer(200) : refuse));
    const statuses = await drive(env, transport, 250, 4);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // Each dead endpoint was tried once, then ejected; the budget (ratio 0, no floor: one token) was never needed.
    expect(transport.sends.get("http://dead1:8080")).toBe(1);
    expect(transport.sends.get("http://dead2:8080")).toBe(1);
    const health = env.state.health.backend("default/b");
    expect(health.endpoint("http://dead1:8080").healthy(env.clock.now() - 10_000)).toBe(false);
    expect(health.endpoint("http://dead2:8080").healthy(env.clock.now() - 10_000)).toBe(false);
    expect(env.state.budget(env.backend, { ratio: 0, minPerSecond: 0 }).available).toBe(1);
  });
});

describe("hedging (virtual time)", () => {
  const endpoints = ["http://hung:8080", "http://a:8080", "http://b:8080"];
  const outlier = "  outlierDetection: { consecutive5xx: 5, consecutiveGatewayErrors: 3, baseEjectionTime: 30s, maxEjectionPercent: 50 }\n";
  const retry = "  retry: { attempts: 2, codes: [503], perTryTimeout: 500ms, backoff: { base: 25ms, max: 250ms }, budget: { ratio: 0.2, minPerSecond: 10 } }\n";

  it("an attempt abandoned for a faster hedge counts as a timeout: the hung endpoint is ejected after consecutiveGatewayErrors", async () => {
    const env = await setup(endpoints, outlier, `${retry}  hedge: { delay: 50ms, maxHedges: 1 }\n`);
    const transport = new ScriptedTransport(env.clock, (origin) => (origin === "http://hung:8080" ? hang : answer(200)));
    const statuses = await drive(env, transport, 250, 4);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // Requests reach the hung endpoint only until three abandoned attempts eject it (plus those in flight within one hedge delay).
    expect(transport.sends.get("http://hung:8080")).toBeLessThanOrEqual(3 + Math.ceil(0.05 * 250));
    expect(env.state.health.backend("default/b").endpoint("http://hung:8080").ejections).toBe(1);
  });

  it("hedges spend their own budget, never the retry budget", async () => {
    // Every endpoint answers in 100 ms, after the 50 ms hedge delay: every request wants a hedge.
    const env = await setup(endpoints, "", "  retry: { attempts: 2, codes: [503], budget: { ratio: 0, minPerSecond: 0 } }\n  hedge: { delay: 50ms, maxHedges: 1, budget: { ratio: 0.5, minPerSecond: 0 } }\n");
    const slow: Behaviour = (req) =>
      new Promise((resolve, reject) => {
        const cancel = env.clock.timer(100, () => void answer(200)(req).then(resolve));
        req.cancelHook?.((reason) => {
          cancel();
          reject(reason);
        });
      });
    const transport = new ScriptedTransport(env.clock, () => slow);
    const statuses = await drive(env, transport, 100, 2);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // About half the requests paid for a hedge (never more than half plus the bucket's one
    // starting token; a little less, as deposits beyond the capacity are dropped), and the retry
    // budget still holds its one token.
    expect(env.state.counters.hedges).toBeGreaterThanOrEqual(90);
    expect(env.state.counters.hedges).toBeLessThanOrEqual(101);
    expect(env.state.budget(env.backend, { ratio: 0, minPerSecond: 0 }).available).toBe(1);
  });

  it("never produces more client errors than the same config without hedging", async () => {
    const errors = async (hedge: string) => {
      const env = await setup(endpoints, outlier, `${retry.replace("ratio: 0.2, minPerSecond: 10", "ratio: 0.05, minPerSecond: 1")}${hedge}`);
      const transport = new ScriptedTransport(env.clock, (origin) => (origin === "http://hung:8080" ? hang : answer(200)));
      const statuses = await drive(env, transport, 250, 4);
      return { errors: statuses.filter((s) => s !== 200).length, hung: transport.sends.get("http://hung:8080") ?? 0 };
    };
    const without = await errors("");
    const withHedge = await errors("  hedge: { delay: 50ms, maxHedges: 1 }\n");
    expect(withHedge.errors).toBeLessThanOrEqual(without.errors);
    expect(withHedge.hung).toBeLessThanOrEqual(without.hung + Math.ceil(0.05 * 250));
  });
});
