import { decodeBundle, summarize, type BundleSummary, type PolicyBundle } from "./bundle.js";
import { HISTORY_LIMIT, type ConfigStore, type PublishTarget } from "./config-store.js";

/** In-process store: for tests, and for embedding meshgate with config pushed by code. */
export class MemoryStore implements ConfigStore, PublishTarget {
  readonly description = "memory";
  private current: string | null = null;
  private readonly bundles: PolicyBundle[] = [];
  private readonly listeners = new Set<() => void>();

  async readCurrent(): Promise<string | null> {
    return this.current;
  }

  /** Stores raw text as current, valid or not (tests use it to plant a broken bundle). */
  setRaw(text: string): void {
    this.current = text;
    for (const l of this.listeners) l();
  }

  watch(onChange: () => void): () => void {
    this.listeners.add(onChange);
    return () => this.listeners.delete(onChange);
  }

  async nextVersion(): Promise<number> {
    return (this.bundles[0]?.version ?? 0) + 1;
  }

  async write(bundle: PolicyBundle): Promise<void> {
    this.bundles.unshift(bundle);
    this.bundles.length = Math.min(this.bundles.length, HISTORY_LIMIT);
    this.setRaw(JSON.stringify(bundle));
  }

  async history(): Promise<BundleSummary[]> {
    return this.bundles.map(summarize);
  }

  async get(version: number): Promise<PolicyBundle | null> {
    return this.bundles.find((b) => b.version === version) ?? null;
  }
}

export { decodeBundle };
