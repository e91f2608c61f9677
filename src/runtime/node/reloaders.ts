import type { ConfigStore } from "../../config/config-store.js";
import type { PreparedSnapshotHolder as SnapshotHolder } from "../../config/prepared-snapshot-holder.js";
import type { GatewayMetrics } from "../../telemetry/gateway-metrics.js";
import type { Logger } from "./log.js";
import { shrinkHold } from "../../config/shrink-hold.js";
import { timeSlices } from "../../snapshot/compile-slices.js";
import type { PolicyReader } from "./policy-reader.js";
import { SETTLE_MAX_MS, SETTLE_MS } from "./policy-worker-start.js";

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
export type Reload = (full?: boolean) => Promise<ReloadProblem | null>;

/** How long a file that lost documents must go without a write before the smaller file is loaded (shrink-hold.ts). */
export const SHRINK_HOLD_MS = 2_000;

/**
 * Reloads from a policy directory through `reader` (a worker thread: reading, parsing and
 * validating never run on this thread; the compile that follows runs in slices of a few ms).
 * `full` false is the safety-net poll: unchanged file stats answer without reading a byte.
 * `later(ms)` asks for a full reload in `ms` (a held shrink, see SHRINK_HOLD_MS).
 */
export function dirReloader(dir: string, holder: SnapshotHolder, metrics: GatewayMetrics, log: Logger, reader: PolicyReader, later: (ms: number) => void): Reload {
  /** The outcome of the last complete read: an unchanged poll repeats it. */
  let last: ReloadProblem | null = null;
  /** The last read saw the files whole (a read that failed or caught them changing is retried in full). */
  let whole = false;
  let heldHash: string | null = null;
  return recovering(holder, log, dir, async (full = true) => {
    const answer = await reader.read({ dir, full: full || !whole, currentHash: holder.ready ? holder.current().hash : null, settleMs: SETTLE_MS, maxMs: SETTLE_MAX_MS });
    whole = answer.kind !== "changing" && answer.kind !== "failed";
    if (answer.kind === "unchanged") return last;
    if (answer.kind === "current") {
      holder.clearFailure();
      return (last = null);
    }
    if (answer.kind === "changing") {
      if (holder.ready) log("warn", answer.message);
      return (last = { problem: answer.message, hint: "let the writes to it finish" });
    }
    if (answer.kind === "failed") {
      metrics.reloads.inc(["error"]);
      holder.recordFailure(answer.message);
      if (holder.ready) log("error", "cannot read policies; keeping the current configuration", { error: answer.message });
      return (last = { problem: answer.message, hint: "check --policies (a directory or file of .yaml, .yml or .json policies)" });
    }
    const { prepared } = answer;
    const hold = holder.ready ? shrinkHold(holder.current().documents, prepared.documents, answer.modified, Date.now(), SHRINK_HOLD_MS) : null;
    if (hold !== null) {
      // Not a failure: the config in force serves on, and the held read is retried when the hold ends.
      later(hold.waitMs + 20);
      if (heldHash !== prepared.hash) log("info", `reload held: ${hold.files.map((f) => `${f.file} has ${f.has} documents (had ${f.had})`).join(", ")} and was written less than ${SHRINK_HOLD_MS} ms ago (a writer still under way?); it applies once the file stays unwritten that long`);
      heldHash = prepared.hash;
      whole = false;
      return last;
    }
    heldHash = null;
    // Slices keep the requests a reload shares the thread with fast; before the first config
    // there are none to keep fast (each slice's yield is idle time on the way to ready).
    const result = await holder.loadPrepared(prepared, { location: dir, files: prepared.documents.map(([name]) => name) }, holder.ready ? timeSlices() : undefined);
    if (!result.ok) {
      const problem: ReloadProblem = { problem: result.failure.message, hint: `fix the policies (meshgate validate ${dir} lists every problem)`, invalid: true };
      last = problem;
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
    return (last = null);
  });
}

export function storeReloader(store: ConfigStore, holder: SnapshotHolder, metrics: GatewayMetrics, log: Logger): Reload {
  // Bundles are decoded with the schemas and the YAML parser: loaded only by a gateway that reads a store.
  const reloader = import("../../config/bundle-reloader.js").then(({ BundleReloader }) => new BundleReloader(store, holder));
  return recovering(holder, log, store.description, async () => {
    try {
      const outcome = await (await reloader).refresh();
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
  return async (full) => {
    const failing = holder.ready && holder.lastFailure !== null;
    const problem = await read(full);
    if (failing && problem === null && holder.lastFailure === null) log("info", "configuration source is valid again; reload error cleared", { source, version: holder.current().version });
    return problem;
  };
}
