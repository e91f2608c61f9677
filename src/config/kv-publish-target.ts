import { BUNDLE_FORMAT, decodeBundle, legacyBundle, summarize, type BundleSummary, type PolicyBundle } from "./bundle.js";
import { HISTORY_LIMIT, type PublishTarget } from "./config-store.js";

/**
 * The KV keys one policy bundle lives under. The Worker reads `currentV2` (documents, no YAML
 * needed), or `current` when nothing was published there yet; `current` also keeps the previous
 * release's format, which is what Workers of that release read.
 */
export const KV_KEYS = {
  current: "bundle:current",
  currentV2: "bundle:current:v2",
  history: "bundle:history",
  version: (v: number) => `bundle:v:${v}`,
} as const;

/** The two KV operations publishing needs: a Workers binding, or wrangler's CLI. */
export interface KvLike {
  get(key: string): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
}

/**
 * Publishes bundles into a key-value namespace. The version document and history go first;
 * the current keys flip last, and each reader switches on its one key: `bundle:current:v2`, then
 * `bundle:current` in the previous release's format (same version, its documents as text). KV has no atomic
 * increment, so versions assume one publisher at a time.
 */
export class KvPublishTarget implements PublishTarget {
  constructor(
    private readonly kv: KvLike,
    readonly description: string,
  ) {}

  async nextVersion(): Promise<number> {
    // Both current keys: whichever a writer (or an older release) touched last holds the highest version.
    const texts = await Promise.all([this.kv.get(KV_KEYS.currentV2), this.kv.get(KV_KEYS.current)]);
    let highest = 0;
    for (const text of texts) {
      if (text === null) continue;
      const version = (JSON.parse(text) as { version?: unknown }).version;
      if (typeof version === "number" && version > highest) highest = version;
    }
    return highest + 1;
  }

  async write(bundle: PolicyBundle): Promise<void> {
    const text = JSON.stringify(bundle);
    const history = [bundle.version, ...(await this.versions()).filter((v) => v !== bundle.version)].slice(0, HISTORY_LIMIT);
    await this.kv.put(KV_KEYS.version(bundle.version), text);
    await this.kv.put(KV_KEYS.history, JSON.stringify(history));
    if (bundle.format === BUNDLE_FORMAT) {
      await this.kv.put(KV_KEYS.currentV2, text);
      await this.kv.put(KV_KEYS.current, JSON.stringify(await legacyBundle(bundle)));
    } else {
      await this.kv.put(KV_KEYS.current, text);
    }
  }

  async history(): Promise<BundleSummary[]> {
    const bundles = await Promise.all((await this.versions()).map((v) => this.get(v)));
    return bundles.filter((b): b is PolicyBundle => b !== null).map(summarize);
  }

  async get(version: number): Promise<PolicyBundle | null> {
    const text = await this.kv.get(KV_KEYS.version(version));
    return text === null ? null : decodeBundle(text);
  }

  private async versions(): Promise<number[]> {
    const text = await this.kv.get(KV_KEYS.history);
    return text === null ? [] : (JSON.parse(text) as number[]);
  }
}
