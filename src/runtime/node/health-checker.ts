import { Agent, request, type Dispatcher } from "undici";
import { connectOptions } from "./undici-transport.js";
import type { Snapshot } from "../../snapshot/snapshot.js";
import type { HealthRegistry } from "../../resilience/outlier.js";

/**
 * Active HTTP health checks for every Backend with `spec.healthCheck`: GET path on each endpoint
 * every interval; `unhealthyThreshold` failures in a row take it out of rotation,
 * `healthyThreshold` successes bring it back. Restarted on every config swap.
 */
export class HealthChecker {
  private timers: NodeJS.Timeout[] = [];
  private readonly streaks = new Map<string, number>();

  constructor(private readonly health: HealthRegistry) {}

  private agents: Agent[] = [];

  apply(snapshot: Snapshot): void {
    this.stop();
    for (const backend of snapshot.backends.values()) {
      const hc = backend.healthCheck;
      if (hc === null) continue;
      // Probes use the Backend's TLS settings, so mTLS upstreams can be health checked too.
      let dispatcher: Dispatcher | undefined;
      try {
        if (backend.tls) this.agents.push((dispatcher = new Agent({ connect: connectOptions(backend.tls) })));
      } catch {
        dispatcher = undefined; // unreadable files: the forward path reports them; probes then fail
      }
      const state = this.health.backend(backend.key);
      for (const endpoint of backend.endpoints) {
        const key = `${backend.key}\u0000${endpoint.origin}`;
        const probe = async () => {
          const ok = await check(endpoint.origin + hc.path, hc.timeoutMs, dispatcher);
          // Positive streak counts successes, negative counts failures.
          const prev = this.streaks.get(key) ?? 0;
          const streak = ok ? Math.max(prev, 0) + 1 : Math.min(prev, 0) - 1;
          this.streaks.set(key, streak);
          const e = state.endpoint(endpoint.origin);
          if (ok && !e.activeHealthy && streak >= hc.healthyThreshold) e.activeHealthy = true;
          if (!ok && e.activeHealthy && -streak >= hc.unhealthyThreshold) e.activeHealthy = false;
        };
        void probe();
        const timer = setInterval(() => void probe(), hc.intervalMs);
        timer.unref();
        this.timers.push(timer);
      }
    }
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const a of this.agents) void a.close().catch(() => undefined);
    this.agents = [];
  }
}

async function check(url: string, timeoutMs: number, dispatcher: Dispatcher | undefined): Promise<boolean> {
  try {
    const res = await request(url, { ...(dispatcher ? { dispatcher } : {}), method: "GET", headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs), headers: { "user-agent": "meshgate-health-check" } });
    await res.body.dump();
    return res.statusCode >= 200 && res.statusCode < 400;
  } catch {
    return false;
  }
}
