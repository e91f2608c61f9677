import { BundleError, decodeBundle } from "./bundle.js";
import type { ConfigStore } from "./config-store.js";
import type { ReloadResult, SnapshotHolder } from "./snapshot-holder.js";

export type BundleRefresh =
  | { readonly kind: "unchanged" }
  | { readonly kind: "empty" }
  | { readonly kind: "loaded"; readonly result: ReloadResult }
  | { readonly kind: "rejected"; readonly reason: string };

/**
 * Reads the store's current bundle and swaps it in when it is new and valid. A bundle that
 * fails to decode or compile is refused with its reason; the last good snapshot stays.
 * A store that fails to answer changes nothing.
 */
export class BundleReloader {
  private lastText: string | null = null;
  private running: Promise<BundleRefresh> | null = null;

  constructor(
    readonly store: ConfigStore,
    private readonly holder: SnapshotHolder,
  ) {}

  /** Concurrent calls share one read. */
  refresh(): Promise<BundleRefresh> {
    this.running ??= this.run().finally(() => (this.running = null));
    return this.running;
  }

  private async run(): Promise<BundleRefresh> {
    const text = await this.store.readCurrent();
    if (text === null) return { kind: "empty" };
    if (text === this.lastText) return { kind: "unchanged" };
    this.lastText = text;
    let bundle;
    try {
      bundle = await decodeBundle(text);
    } catch (err) {
      const reason = err instanceof BundleError ? err.reason : (err as Error).message;
      this.holder.recordFailure(`bundle from ${this.store.description} refused: ${reason}`);
      return { kind: "rejected", reason };
    }
    const result = await this.holder.load(bundle.sources, { location: this.store.description, files: bundle.sources.map((s) => s.name) }, String(bundle.version));
    if (!result.ok) return { kind: "rejected", reason: `version ${bundle.version}: ${result.failure.message}` };
    return { kind: "loaded", result };
  }
}
