import type { ConfigStore } from "../../config/config-store.js";
import { KV_KEYS, type KvLike } from "../../config/kv-publish-target.js";

export { KV_KEYS };

/** What meshgate uses of a Workers KV binding. */
export interface KvBinding {
  get(key: string, type: "text"): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
}

/** Reads the current bundle from a Workers KV namespace (KV_KEYS.currentV2, else KV_KEYS.current). */
export class KvStore implements ConfigStore {
  readonly description: string;
  constructor(
    private readonly kv: KvBinding,
    bindingName: string,
  ) {
    this.description = `kv:${bindingName}`;
  }

  async readCurrent(): Promise<string | null> {
    // A namespace last published to by an older release has only `current`.
    return (await this.kv.get(KV_KEYS.currentV2, "text")) ?? (await this.kv.get(KV_KEYS.current, "text"));
  }
}

/** A Workers KV binding seen as the KvLike that KvPublishTarget writes through. */
export function kvBinding(kv: KvBinding): KvLike {
  return { get: (key) => kv.get(key, "text"), put: (key, value) => kv.put(key, value) };
}
