import { BundleReloader } from "../../config/bundle-reloader.js";
import type { ConfigStore } from "../../config/config-store.js";
import type { SnapshotHolder } from "../../config/snapshot-holder.js";
import type { GatewayMetrics } from "../../telemetry/gateway-metrics.js";
import type { Logger } from "./log.js";
import { PoliciesChanging, readStablePolicyDir } from "./policy-dir.js";

/** Why a read gave no usable config: what went wrong, and what the operator can do about it. */
export interface ReloadProblem {
  readonly problem: string;
  readonly hint: string;
  /** Invalid policies (not an unavailable source): `problem` lists each one, a line apiece. */
  readonly invalid?: true;
}

/**
 * Re-reads the configuration source; never throws, never replaces a good config with a bad one.
 * Resolves with the problem when the source gave no valid config (null: it did, or kept the one
 * in force). Before the first config there is nothing to keep, so nothing is logged: the caller
 * decides (fail the start, or wait).
 */
export type Reload = () => Promise<ReloadProblem | null>;

/** How long files must read the same before they are loaded, and how long to wait for that at most. */
const SETTLE_MS = 100;
const SETTLE_MAX_MS = 2_000;

export function dirReloader(dir: string, holder: SnapshotHolder, metrics: GatewayMetrics, log: Logger): Reload {
  return recovering(holder, log, dir, async () => {
    let sources;
    try {
      sources = await readStablePolicyDir(dir, { settleMs: SETTLE_MS, maxMs: SETTLE_MAX_MS, isCurrent: (s) => holder.isCurrent(s) });
    } catch (err) {
      if (err instanceof PoliciesChanging) {
        if (holder.ready) log("warn", err.message);
        return { problem: err.message, hint: "let the writes to it finish" };
      }
      metrics.reloads.inc(["error"]);
      holder.recordFailure((err as Error).message);
      if (holder.ready) log("error", "cannot read policies; keeping the current configuration", { error: (err as Error).message });
      return { problem: (err as Error).message, hint: "check --policies (a directory or file of .yaml, .yml or .json policies)" };
    }
    const result = await holder.load(sources, { location: dir, files: sources.map((s) => s.name) });
    if (!result.ok) {
      const problem: ReloadProblem = { problem: result.failure.message, hint: `fix the policies (meshgate validate ${dir} lists every problem)`, invalid: true };
      // The poll re-reads the same broken files every 2 s: count and log them once.
      if (result.repeated) return problem;
      if (result.failure.refused) {
        metrics.reloads.inc(["refused"]);
        log("error", result.failure.message);
      } else {
        metrics.reloads.inc(["error"]);
        if (holder.ready) log("error", "invalid policies; keeping the last good configuration", { errors: result.failure.message.split("\n") });
      }
      return problem;
    }
    if (result.changed) metrics.reloads.inc(["success"]);
    return null;
  });
}

export function storeReloader(store: ConfigStore, holder: SnapshotHolder, metrics: GatewayMetrics, log: Logger): Reload {
  const reloader = new BundleReloader(store, holder);
  return recovering(holder, log, store.description, async () => {
    try {
      const outcome = await reloader.refresh();
      if (outcome.kind === "rejected") {
        metrics.reloads.inc([outcome.refused ? "refused" : "error"]);
        if (holder.ready) log("error", "policy bundle refused; keeping the last good configuration", { store: store.description, reason: outcome.reason });
        return { problem: `the bundle in ${store.description} is refused: ${outcome.reason}`, hint: "publish a valid one (meshgate publish --policies DIR …)", invalid: true };
      }
      if (outcome.kind === "loaded" && outcome.result.ok && outcome.result.changed) metrics.reloads.inc(["success"]);
      if (outcome.kind === "empty" && !holder.ready) {
        holder.recordFailure(`nothing has been published to ${store.description}`);
        const redis = store.description.includes("(prefix ");
        return { problem: `nothing has been published to ${store.description}`, hint: `publish a bundle first (meshgate publish --policies DIR ${redis ? "--redis URL, with the same --prefix" : "--file PATH"})` };
      }
      return null;
    } catch (err) {
      metrics.reloads.inc(["error"]);
      const message = `cannot read ${store.description}: ${(err as Error).message}`;
      holder.recordFailure(message);
      if (holder.ready) log("error", "config store unavailable; keeping the current configuration", { store: store.description, error: (err as Error).message });
      return { problem: message, hint: "check that the store is up and --store is right" };
    }
  });
}

/** Logs once when a source that had a reload error reads back as a valid config again. */
function recovering(holder: SnapshotHolder, log: Logger, source: string, read: Reload): Reload {
  return async () => {
    const failing = holder.ready && holder.lastFailure !== null;
    const problem = await read();
    if (failing && problem === null && holder.lastFailure === null) log("info", "configuration source is valid again; reload error cleared", { source, version: holder.current().version });
    return problem;
  };
}
