import { BundleError, decodeBundle, type PolicyBundle } from "./bundle.js";
import type { ConfigStore } from "./config-store.js";
import type { PreparedSnapshotHolder as SnapshotHolder, ReloadResult } from "./prepared-snapshot-holder.js";

export type BundleRefresh =
  | { readonly kind: "unchanged" }
  | { readonly kind: "empty" }
  | { readonly kind: "loaded"; readonly result: ReloadResult }
  | { readonly kind: "rejected"; readonly reason: string; readonly refused: boolean };

/**
 * Reads the store's current bundle and swaps it in when it is new and valid. A bundle that
 * fails to decode or compile is refused with its reason; the last good snapshot stays.
 * A store that fails to answer changes nothing.
 */
export class BundleReloader {
  private lastText: string | null = null;
  /** Why lastText was refused, or null when it is the config in force. */
  private lastRefusal: { readonly message: string; readonly refused: boolean } | null = null;
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
    if (text === this.lastText) {
      // Read back fine: an error since (the store was unreachable) is over, unless this very
      // bundle is the one that was refused.
      if (this.lastRefusal === null) this.holder.clearFailure();
      else if (this.holder.lastFailure?.message !== this.lastRefusal.message) this.holder.recordFailure(this.lastRefusal.message, this.lastRefusal.refused);
      return { kind: "unchanged" };
    }
    this.lastText = text;
    this.lastRefusal = null;
    let bundle;
    try {
      bundle = await decodeBundle(text);
    } catch (err) {
      const reason = err instanceof BundleError ? err.reason : (err as Error).message;
      this.lastRefusal = { message: this.holder.recordFailure(`bundle from ${this.store.description} refused: ${reason}`).message, refused: false };
      return { kind: "rejected", reason, refused: false };
    }
    const regression = this.regression(bundle);
    if (regression !== null) {
      this.lastRefusal = { message: this.holder.recordFailure(regression, true).message, refused: true };
      return { kind: "rejected", reason: regression, refused: true };
    }
    const result = await this.holder.load(bundle.sources, { location: this.store.description, files: bundle.sources.map((s) => s.name) }, String(bundle.version));
    if (!result.ok) {
      this.lastRefusal = { message: result.failure.message, refused: result.failure.refused };
      return { kind: "rejected", reason: `version ${bundle.version}: ${result.failure.message}`, refused: false };
    }
    return { kind: "loaded", result };
  }

  /**
   * A store that lost its data restarts its versions at 1: a gateway running version N must not
   * go back to a lower one (or another bundle under the same number) without being told to.
   */
  private regression(bundle: PolicyBundle): string | null {
    if (!this.holder.ready || bundle.force === true) return null;
    const current = this.holder.current();
    if (!/^[0-9]+$/.test(current.version)) return null;
    const inForce = Number(current.version);
    if (bundle.version > inForce || (bundle.version === inForce && bundle.hash === current.hash)) return null;
    const what = bundle.version === inForce ? `is a different bundle under version ${inForce}, the one in force` : `is older than version ${inForce}, the one in force`;
    return `version ${bundle.version} from ${this.store.description} ${what} (did the store lose its data?); refused, keeping version ${inForce}. To make it current on purpose: meshgate publish --force`;
  }
}
