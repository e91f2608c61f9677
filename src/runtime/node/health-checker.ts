import { request } from "undici";
import type { Snapshot } from "../../policy/snapshot.js";
import type { HealthRegistry } from "../../upstream/outlier.js";

/**
 * Active HTTP health checks for every Backend with `spec.healthCheck`: GET path on each endpoint
 * every interval; `unhealthyThreshold` failures in a row take it out of rotation,
 * `healthyThreshold` successes bring it back. Restarted on every config swap.
 */
export class HealthChecker {
  private timers: NodeJS.Timeout[] = [];
  private readonly streaks = new Map<string, number>();

  constructor(private readonly health: HealthRegistry) {}

  apply(snapshot: Snapshot): void {
    this.stop();
    for (const backend of snapshot.backends.values()) {
      const hc = backend.healthCheck;
      if (hc === null) continue;
      const state = this.health.backend(backend.key);
      for (const endpoint of backend.endpoints) {
        const key = `${backend.key}\u0000${endpoint.origin}`;
        const probe = async () => {
          const ok = await check(endpoint.origin + hc.path, hc.timeoutMs);
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
  }
}

async function check(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await request(url, { method: "GET", headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs), headers: { "user-agent": "meshgate-health-check" } });
    await res.body.dump();
    return res.statusCode >= 200 && res.statusCode < 400;
  } catch {
    return false;
  }
}
