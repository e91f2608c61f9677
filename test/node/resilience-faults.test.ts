import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hanging, healthy, refusing, resettingMidBody, switchable } from "../support/chaos-upstreams.js";
import type { TestGateway } from "../support/gateway.js";
import { fleet, serviceFiles } from "../support/fleet.js";

/**
 * The faults of issue 17 against a real gateway and real loopback upstreams, with the README's
 * recommended settings: outlierDetection 5/3/30s/300s/50%, retries 2 on 502/503/504 and
 * connect-failure/reset/timeout, perTryTimeout 500ms, budget 0.2 + 10/s.
 */
const { server: track, gateway } = fleet();

const OUTLIER = "  outlierDetection: { consecutive5xx: 5, consecutiveGatewayErrors: 3, baseEjectionTime: 30s, maxEjectionTime: 300s, maxEjectionPercent: 50 }\n";
const RETRY = "  retry: { attempts: 2, codes: [502, 503, 504], on: [connect-failure, reset, timeout], perTryTimeout: 500ms, budget: { ratio: 0.2, minPerSecond: 10 } }\n";

function files(urls: string[], backendExtra: string, traffic: string): Record<string, string> {
  return {
    ...serviceFiles(urls, backendExtra),
    "t.yaml": `apiVersion: meshgate.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: svc }
spec:
  targetRefs: [{ kind: HTTPRoute, name: svc }]
${traffic}`,
  };
}

interface Outcome {
  status: number;
  ok: boolean;
}

/** `n` requests, `concurrency` at a time; a request whose body breaks off counts as not ok. */
async function load(gw: TestGateway, n: number, concurrency: number): Promise<Outcome[]> {
  const out: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        try {
          const res = await fetch(`${gw.url}/`);
          await res.arrayBuffer();
          out.push({ status: res.status, ok: res.status === 200 });
        } catch {
          out.push({ status: 0, ok: false });
        }
      }
    }),
  );
  return out;
}

describe("issue 17 faults, end to end", () => {
  it("two of three endpoints refuse connections: no request fails with maxEjectionPercent 50", async () => {
    const [dead1, dead2, good] = await Promise.all([track(refusing()), track(refusing()), track(healthy("good"))]);
    const gw = await gateway(files([dead1.url, dead2.url, good.url], OUTLIER, RETRY));
    const results = await load(gw, 300, 10);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const health = gw.gateway.upstreams.health.backend("default/svc");
    expect(health.endpoint(dead1.url).healthy(performance.now())).toBe(false);
    expect(health.endpoint(dead2.url).healthy(performance.now())).toBe(false);
    // Refused retries reached no upstream and spent no budget.
    expect((await (await fetch(`${gw.adminUrl}/metrics`)).text()).match(/meshgate_retries_skipped_total (\d+)/)?.[1]).toBe("0");
  });

  it("a reset after the response headers counts against the endpoint: ejected, UR in the access log and metrics", async () => {
    const [broken, good] = await Promise.all([track(resettingMidBody()), track(healthy("good"))]);
    const log = join(tmpdir(), `meshgate-access-${process.pid}-${Date.now()}.log`);
    const gw = await gateway(files([broken.url, good.url], OUTLIER, RETRY), { accessLog: log });
    const results = await load(gw, 100, 2);
    // Only requests answered before the third broken body came back can have failed.
    const failed = results.filter((r) => !r.ok).length;
    expect(failed).toBeGreaterThanOrEqual(3);
    expect(failed).toBeLessThanOrEqual(3 + 2);
    expect(broken.hits).toBe(failed);
    expect(gw.gateway.upstreams.health.backend("default/svc").endpoint(broken.url).healthy(performance.now())).toBe(false);
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`meshgate_requests_total\\{route="default/svc/rule-0",backend="default/svc",endpoint="${broken.url}",code="200",flags="UR"\\} ${failed}`));
    await new Promise((r) => setTimeout(r, 100)); // the log stream flushes
    const lines = (await readFile(log, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { response_flags: string; upstream_host: string });
    expect(lines.filter((l) => l.response_flags === "UR").length).toBe(failed);
    expect(lines.filter((l) => l.response_flags === "UR").every((l) => l.upstream_host === broken.url)).toBe(true);
  });

  it("hedging a hung endpoint: no more client errors and no more load on it than without hedging", async () => {
    const run = async (hedge: string) => {
      const [hung, a, b] = await Promise.all([track(hanging()), track(healthy("a")), track(healthy("b"))]);
      const gw = await gateway(files([hung.url, a.url, b.url], OUTLIER, `${RETRY}${hedge}`));
      const results = await load(gw, 200, 10);
      return { errors: results.filter((r) => !r.ok).length, hung: hung.hits };
    };
    const without = await run("");
    const hedged = await run("  hedge: { delay: 50ms, maxHedges: 1 }\n");
    expect(hedged.errors).toBeLessThanOrEqual(without.errors);
    // Abandoned slow attempts count as timeouts: three eject the hung endpoint, as three per-try timeouts do.
    expect(hedged.hung).toBeLessThanOrEqual(without.hung + 10);
    expect(hedged.hung).toBeLessThan(40);
  });

  it("the retry budget bounds attempts per request in every second of an outage", async () => {
    let down = false;
    const up = await track(switchable(() => down));
    const gw = await gateway(files([up.url], "", "  retry: { attempts: 2, codes: [503], backoff: { base: 1ms, max: 2ms }, budget: { ratio: 0.2, minPerSecond: 10 } }\n"));
    // Open loop: 100 requests per second, 1 s healthy, then 2 s down.
    const pending: Promise<unknown>[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 300; i++) {
      const wait = t0 + i * 10 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (i === 100) down = true;
      pending.push(fetch(`${gw.url}/`).then((r) => r.arrayBuffer()));
    }
    await Promise.all(pending);
    // Measured where the load lands: per second at the upstream, first attempts (a new request id)
    // versus extra attempts (an id seen before). The bucket bounds extra attempts in any window
    // of T s by ratio × requests + minPerSecond × T + its capacity (minPerSecond).
    const seen = new Set<string>();
    const marked = up.arrivals.map((a) => {
      const first = !seen.has(a.id);
      seen.add(a.id);
      return { at: a.at, first };
    });
    const outageStart = marked[100]!.at;
    const end = marked[marked.length - 1]!.at;
    let windows = 0;
    for (let from = outageStart; from + 1000 <= end + 1; from += 250, windows++) {
      const inWindow = marked.filter((a) => a.at >= from && a.at < from + 1000);
      const requests = inWindow.filter((a) => a.first).length;
      const extra = inWindow.length - requests;
      expect(extra).toBeLessThanOrEqual(0.2 * requests + 10 * 1 + 10 + 1);
    }
    expect(windows).toBeGreaterThan(0);
    expect(seen.size).toBe(300);
    expect(up.hits).toBeGreaterThan(300);
  });
});
