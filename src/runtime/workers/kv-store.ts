import type { ConfigStore } from "../../config/config-store.js";

/** The KV keys one policy bundle lives under; `meshgate publish --kv-binding` writes the same. */
export const KV_KEYS = {
  current: "bundle:current",
  history: "bundle:history",
  version: (v: number) => `bundle:v:${v}`,
} as const;

/** Minimal view of a Workers KV binding (what the reader needs). */
export interface KvReader {
  get(key: string, type: "text"): Promise<string | null>;
}

/** Reads the current bundle from a Workers KV namespace. */
export class KvStore implements ConfigStore {
  readonly description: string;
  constructor(
    private readonly kv: KvReader,
    bindingName: string,
  ) {
    this.description = `kv:${bindingName}`;
  }

  readCurrent(): Promise<string | null> {
    return this.kv.get(KV_KEYS.current, "text");
  }
}
