import { decodeBundle, summarize, type BundleSummary, type PolicyBundle } from "./bundle.js";
import { HISTORY_LIMIT, type PublishTarget } from "./config-store.js";

/** The KV keys one policy bundle lives under; the Worker reads `current`. */
export const KV_KEYS = {
  current: "bundle:current",
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
 * `bundle:current` flips last, and readers switch on that one key. KV has no atomic
 * increment, so versions assume one publisher at a time.
 */
export class KvPublishTarget implements PublishTarget {
  constructor(
    private readonly kv: KvLike,
    readonly description: string,
  ) {}

  async nextVersion(): Promise<number> {
    const current = await this.kv.get(KV_KEYS.current);
    if (current === null) return 1;
    const version = (JSON.parse(current) as { version?: unknown }).version;
    return (typeof version === "number" ? version : 0) + 1;
  }

  async write(bundle: PolicyBundle): Promise<void> {
    const text = JSON.stringify(bundle);
    const history = [bundle.version, ...(await this.versions()).filter((v) => v !== bundle.version)].slice(0, HISTORY_LIMIT);
    await this.kv.put(KV_KEYS.version(bundle.version), text);
    await this.kv.put(KV_KEYS.history, JSON.stringify(history));
    await this.kv.put(KV_KEYS.current, text);
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
