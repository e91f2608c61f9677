import { parseStoredKey, type ApiKeyEntry, type ApiKeyStore } from "../../identity/api-keys.js";
import type { KvBinding } from "./kv-store.js";

/** API keys one per KV key (`apikey:<sha256 hex>` → JSON entry) in the API_KEYS namespace. */
export class KvApiKeyStore implements ApiKeyStore {
  constructor(private readonly kv: KvBinding) {}

  async get(hash: string): Promise<ApiKeyEntry | null> {
    return parseStoredKey(await this.kv.get(`apikey:${hash}`, "text"));
  }
}
