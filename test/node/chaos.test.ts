import { describe, expect, it } from "vitest";
import { bursting, failing, hanging, healthy, refusing, resetting, type ChaosServer } from "../support/chaos-upstreams.js";
import type { TestGateway } from "../support/gateway.js";
import { fleet } from "../support/fleet.js";
import { until } from "../support/cli-gateway.js";

const { server: track, gateway } = fleet();

function backend(name: string, endpoints: { url: string; priority?: number }[], extra = ""): string {
  return `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: ${name} }
spec:
  endpoints:
${endpoints.map((e) => `    - { url: "${e.url}", priority: ${e.priority ?? 0} }`).join("\n")}
${extra}`;
}

function route(name: string, backendName: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name} }
spec:
  rules: [{ name: main, backendRefs: [{ name: ${backendName} }] }]
`;
}

function traffic(name: string, routeName: string, spec: string): string {
  return `apiVersion: meshgate.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: ${name} }
spec:
  targetRefs: [{ kind: HTTPRoute, name: ${routeName} }]
${spec}`;
}

async function run(gw: TestGateway, n: number, concurrency: number, init: RequestInit = {}): Promise<{ status: number; upstream: string | null; skipped: string | null }[]> {
  const out: { status: number; upstream: string | null; skipped: string | null }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        const res = await fetch(`${gw.url}/`, init);
        await res.arrayBuffer();
        out.push({ status: res.status, upstream: res.headers.get("x-upstream"), skipped: res.headers.get("x-meshgate-retry-skipped") });
      }
    }),
  );
  return out;
}

describe("chaos: retries and ejection keep clients whole", () => {
  it("refused, reset, hanging and bursting endpoints: every request succeeds while one healthy endpoint remains", async () => {
    const [refuse, reset, hang, burst, good] = await Promise.all([track(refusing()), track(resetting()), track(hanging()), track(bursting(3)), track(healthy("good"))]);
    const gw = await gateway({
      // Bursts of three 503s never trip consecutive5xx: 10; one gateway error (refused, reset,
      // timed out) ejects; at most 60% (the three broken endpoints) may be out at once.
      // perTryTimeout is generous so the healthy endpoint never times out on a loaded machine.
      "b.yaml": backend("chaos", [refuse, reset, hang, burst, good], "  outlierDetection: { consecutive5xx: 10, consecutiveGatewayErrors: 1, baseEjectionTime: 30s, maxEjectionPercent: 60 }\n"),
      "r.yaml": route("chaos", "chaos"),
      "t.yaml": traffic("chaos", "chaos", "  retry: { attempts: 4, codes: [503], perTryTimeout: 1500ms, backoff: { base: 1ms, max: 5ms }, budget: { ratio: 1, minPerSecond: 100 } }\n"),
    });
    const results = await run(gw, 300, 10);
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect(results.every((r) => r.upstream === "good" || r.upstream === "burst")).toBe(true);
    // The broken endpoints were ejected after their first failures: each can only have been
    // picked by the requests in flight before its first failure came back (concurrency 10).
    expect(refuse.hits + reset.hits + hang.hits).toBeLessThanOrEqual(3 * 10);
    const ejected = [...gw.gateway.upstreams.health.backend("default/chaos").endpoints].filter(([, e]) => !e.healthy(performance.now())).map(([o]) => o);
    expect(ejected).toEqual(expect.arrayContaining([refuse.url, reset.url, hang.url]));
  });

  it("the retry budget caps upstream attempts at (1 + ratio) × requests + minimum", async () => {
    const down = await track(failing(503, "down"));
    const gw = await gateway({
      "b.yaml": backend("down", [down]),
      "r.yaml": route("down", "down"),
      "t.yaml": traffic("down", "down", "  retry: { attempts: 5, codes: [503], backoff: { base: 1ms, max: 1ms }, budget: { ratio: 0.2, minPerSecond: 1 } }\n"),
    });
    const n = 200;
    const results = await run(gw, n, 8);
    expect(results.every((r) => r.status === 503)).toBe(true);
    expect(down.hits).toBeLessThanOrEqual(Math.ceil((1 + 0.2) * n + 1 * 10));
    expect(down.hits).toBeGreaterThan(n);
    expect(results.some((r) => r.skipped === "budget-exhausted")).toBe(true);
  });

  it("does not retry a POST unless the policy allows it, and says when a body was too large to retry", async () => {
    const down = await track(failing(503, "down"));
    const gw = await gateway({
      "b.yaml": backend("down", [down]),
      "r.yaml": route("post", "down"),
      "t.yaml": traffic("post", "post", "  retry: { attempts: 2, codes: [503], nonIdempotent: true, maxBufferBytes: 16, backoff: { base: 1ms, max: 1ms } }\n"),
    });
    const small = await fetch(`${gw.url}/`, { method: "POST", body: "tiny" });
    expect(small.status).toBe(503);
    expect(down.hits).toBe(3);
    const large = await fetch(`${gw.url}/`, { method: "POST", body: "x".repeat(1_000) });
    expect(large.status).toBe(503);
    expect(large.headers.get("x-meshgate-retry-skipped")).toBe("body-too-large");
    expect(down.hits).toBe(4);
  });
});

describe("multi-cluster failover", () => {
  it("moves traffic to the next priority when a cluster fails and back when it recovers", async () => {
    let a1 = await healthy("cluster-a");
    let a2 = await healthy("cluster-a");
    const b = await track(healthy("cluster-b"));
    const gw = await gateway({
      "b.yaml": backend("multi", [{ url: a1.url, priority: 0 }, { url: a2.url, priority: 0 }, { url: b.url, priority: 1 }], "  outlierDetection: { consecutiveGatewayErrors: 1, baseEjectionTime: 1s, maxEjectionPercent: 100 }\n"),
      "r.yaml": route("multi", "multi"),
      "t.yaml": traffic("multi", "multi", "  retry: { attempts: 2, backoff: { base: 1ms, max: 1ms } }\n"),
    });
    const share = async (n: number) => {
      const r = await run(gw, n, 4);
      expect(r.every((x) => x.status === 200)).toBe(true);
      return r.filter((x) => x.upstream === "cluster-b").length / n;
    };
    expect(await share(100)).toBe(0);

    const ports = [a1.port, a2.port];
    await Promise.all([a1.close(), a2.close()]);
    await share(20); // first failures eject cluster A (and are retried onto B)
    expect(await share(100)).toBe(1);

    [a1, a2] = (await Promise.all(ports.map((p) => track(healthy("cluster-a", 0, p))))) as [ChaosServer, ChaosServer];
    // Ejection time grows with each ejection (base × n): on a slow run cluster A's endpoints may
    // have been re-probed and re-ejected while B served, so wait for A's first answer, not for 1 s.
    await until(async () => (await run(gw, 1, 1))[0]!.upstream === "cluster-a", 15_000, "cluster A serving again after its ejection");
    expect(await share(100)).toBe(0);
  });
});

describe("hedging, breaker, fault injection, affinity", () => {
  it("hedges a slow GET to another endpoint: the fast answer wins", async () => {
    const slow = await track(healthy("slow", 1_500));
    const fast = await track(healthy("fast", 0));
    const gw = await gateway({
      "b.yaml": backend("hedge", [slow, fast]),
      "r.yaml": route("hedge", "hedge"),
      "t.yaml": traffic("hedge", "hedge", "  hedge: { delay: 50ms }\n"),
    });
    for (let i = 0; i < 6; i++) {
      const started = performance.now();
      const res = await fetch(`${gw.url}/`);
      expect(await res.text()).toBe("fast");
      expect(performance.now() - started).toBeLessThan(1_000);
    }
  });

  it("answers 503 backend_overloaded at once past maxRequests + maxPendingRequests", async () => {
    const busy = await track(healthy("busy", 300));
    const gw = await gateway({ "b.yaml": backend("busy", [busy], "  circuitBreaker: { maxRequests: 2, maxPendingRequests: 1 }\n"), "r.yaml": route("busy", "busy") });
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const res = await fetch(`${gw.url}/`);
        const body = await res.text();
        return { status: res.status, body, at: performance.now() - started, flags: res.headers.get("x-meshgate-flags") };
      }),
    );
    const rejected = results.filter((r) => r.status === 503);
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    expect(rejected).toHaveLength(3);
    for (const r of rejected) {
      expect(JSON.parse(r.body).error.code).toBe("backend_overloaded");
      expect(r.flags).toBe("UO");
      expect(r.at).toBeLessThan(250);
    }
  });

  it("injects aborts and delays only for requests with the chaos header", async () => {
    const up = await track(healthy("up"));
    const gw = await gateway({
      "b.yaml": backend("fi", [up]),
      "r.yaml": route("fi", "fi"),
      "t.yaml": traffic("fi", "fi", "  fault: { header: x-chaos, abort: { status: 418, percentage: 100 }, delay: { duration: 200ms, percentage: 100 } }\n"),
    });
    expect((await fetch(`${gw.url}/`)).status).toBe(200);
    const started = performance.now();
    const res = await fetch(`${gw.url}/`, { headers: { "x-chaos": "1" } });
    expect(res.status).toBe(418);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("fault_injected");
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });

  it("keeps a user in the same canary cohort (header affinity)", async () => {
    const [stable, canary] = await Promise.all([track(healthy("stable")), track(healthy("canary"))]);
    const gw = await gateway({
      "b.yaml": [backend("stable", [stable]), backend("canary", [canary])].join("---\n"),
      "r.yaml": `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: aff }\nspec:\n  rules: [{ backendRefs: [{ name: canary, weight: 50 }, { name: stable, weight: 50 }] }]\n`,
      "t.yaml": traffic("aff", "aff", "  sessionAffinity: { header: x-user }\n"),
    });
    const cohorts = new Set<string>();
    for (let u = 0; u < 40; u++) {
      const seen = new Set<string>();
      for (let i = 0; i < 5; i++) seen.add((await fetch(`${gw.url}/`, { headers: { "x-user": `user-${u}` } })).headers.get("x-upstream")!);
      expect(seen.size).toBe(1);
      cohorts.add([...seen][0]!);
    }
    expect(cohorts).toEqual(new Set(["stable", "canary"]));
  });
});

describe("active health checks (Node)", () => {
  it("takes an endpoint whose health check fails out of rotation before any request fails", async () => {
    const { createServer } = await import("node:http");
    let sick = false;
    const flaky = createServer((req, res) => {
      if (req.url === "/healthz") return res.writeHead(sick ? 500 : 200).end();
      res.writeHead(200, { "x-upstream": "flaky" }).end("flaky");
    });
    await new Promise<void>((r) => flaky.listen(0, "127.0.0.1", r));
    const flakyUrl = `http://127.0.0.1:${(flaky.address() as { port: number }).port}`;
    const steady = await track(healthy("steady"));
    const gw = await gateway({
      "b.yaml": backend("hc", [{ url: flakyUrl }, steady], "  healthCheck: { path: /healthz, interval: 50ms, timeout: 100ms, healthyThreshold: 1, unhealthyThreshold: 2 }\n"),
      "r.yaml": route("hc", "hc"),
    });
    try {
      const seen = async () => new Set((await run(gw, 40, 4)).map((r) => r.upstream));
      expect(await seen()).toEqual(new Set(["flaky", "steady"]));
      sick = true;
      await new Promise((r) => setTimeout(r, 300));
      expect(await seen()).toEqual(new Set(["steady"]));
      sick = false;
      await new Promise((r) => setTimeout(r, 300));
      expect(await seen()).toEqual(new Set(["flaky", "steady"]));
    } finally {
      flaky.closeAllConnections();
      await new Promise((r) => flaky.close(r));
    }
  });
});
