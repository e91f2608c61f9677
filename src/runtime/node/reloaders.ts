import { BundleReloader } from "../../config/bundle-reloader.js";
import type { ConfigStore } from "../../config/config-store.js";
import type { SnapshotHolder } from "../../config/snapshot-holder.js";
import type { GatewayMetrics } from "../../telemetry/gateway-metrics.js";
import type { Logger } from "./log.js";
import { PoliciesChanging, readStablePolicyDir } from "./policy-dir.js";

/** Re-reads the configuration source; never throws, never replaces a good config with a bad one. */
export type Reload = () => Promise<void>;

/** How long files must read the same before they are loaded, and how long to wait for that at most. */
const SETTLE_MS = 100;
const SETTLE_MAX_MS = 2_000;

export function dirReloader(dir: string, holder: SnapshotHolder, metrics: GatewayMetrics, log: Logger): Reload {
  return async () => {
    let sources;
    try {
      sources = await readStablePolicyDir(dir, { settleMs: SETTLE_MS, maxMs: SETTLE_MAX_MS, isCurrent: (s) => holder.isCurrent(s) });
    } catch (err) {
      if (err instanceof PoliciesChanging) {
        log("warn", err.message);
        return;
      }
      metrics.reloads.inc(["error"]);
      holder.recordFailure((err as Error).message);
      log("error", "cannot read policies; keeping the current configuration", { error: (err as Error).message });
      return;
    }
    const result = await holder.load(sources, { location: dir, files: sources.map((s) => s.name) });
    if (!result.ok) {
      // The poll re-reads the same broken files every 2 s: count and log them once.
      if (result.repeated) return;
      if (result.failure.refused) {
        metrics.reloads.inc(["refused"]);
        log("error", result.failure.message);
      } else {
        metrics.reloads.inc(["error"]);
        log("error", "invalid policies; keeping the last good configuration", { errors: result.failure.message.split("\n") });
      }
    } else if (result.changed) metrics.reloads.inc(["success"]);
  };
}

export function storeReloader(store: ConfigStore, holder: SnapshotHolder, metrics: GatewayMetrics, log: Logger): Reload {
  const reloader = new BundleReloader(store, holder);
  return async () => {
    try {
      const outcome = await reloader.refresh();
      if (outcome.kind === "rejected") {
        metrics.reloads.inc([outcome.refused ? "refused" : "error"]);
        log("error", "policy bundle refused; keeping the last good configuration", { store: store.description, reason: outcome.reason });
      } else if (outcome.kind === "loaded" && outcome.result.ok && outcome.result.changed) metrics.reloads.inc(["success"]);
      else if (outcome.kind === "empty" && !holder.ready) holder.recordFailure(`nothing has been published to ${store.description}`);
    } catch (err) {
      metrics.reloads.inc(["error"]);
      log("error", "config store unavailable; keeping the current configuration", { store: store.description, error: (err as Error).message });
      if (!holder.ready) holder.recordFailure(`cannot read ${store.description}: ${(err as Error).message}`);
    }
  };
}
