import type { Agent, Dispatcher } from "undici";
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
  /** Bumped by every apply and stop: a load of undici that finishes late starts nothing stale. */
  private generation = 0;

  apply(snapshot: Snapshot): void {
    this.stop();
    const generation = this.generation;
    if (![...snapshot.backends.values()].some((b) => b.healthCheck !== null)) return;
    // undici's full entry (its fetch, WebSocket, cache, ...) costs ~70 ms of a start; only
    // gateways with health checks pay it, once, before their first probe.
    loadUndici().then(
      (undici) => {
        if (generation === this.generation) this.start(snapshot, undici);
      },
      // A broken install must not take the serving gateway down from a timer's promise: say so, probe nothing.
      (err: unknown) => process.emitWarning(`health checks are off: undici did not load (${err instanceof Error ? err.message : String(err)})`),
    );
  }

  private start(snapshot: Snapshot, { Agent, request }: Undici): void {
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
          const ok = await check(request, endpoint.origin + hc.path, hc.timeoutMs, dispatcher);
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
    this.generation++;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const a of this.agents) void a.close().catch(() => undefined);
    this.agents = [];
  }
}

type Undici = (typeof import("undici"))["default"];
let undici: Promise<Undici> | undefined;
// The CommonJS module.exports, as `default` both from Node's loader and from the CLI bundle's chunk.
const loadUndici = (): Promise<Undici> => (undici ??= import("undici").then((m) => m.default));

async function check(request: Undici["request"], url: string, timeoutMs: number, dispatcher: Dispatcher | undefined): Promise<boolean> {
  try {
    const res = await request(url, { ...(dispatcher ? { dispatcher } : {}), method: "GET", headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs), headers: { "user-agent": "meshgate-health-check" } });
    await res.body.dump();
    return res.statusCode >= 200 && res.statusCode < 400;
  } catch {
    return false;
  }
}
