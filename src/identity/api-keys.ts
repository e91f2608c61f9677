import type { ApiKeySpec } from "./security-policy.js";
import { GatewayError } from "../http/gateway-error.js";
import { sha256Hex } from "../http/text-hash.js";

/** One API key as stored: never the key, only its SHA-256. */
export interface ApiKeyEntry {
  readonly consumer: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Epoch ms, or null for no expiry. */
  readonly expiresAt: number | null;
}

/** Per-key lookup in the deployment's key store (Redis on Node, KV on Workers), for large key sets. */
export interface ApiKeyStore {
  /** `hash` is lower-case hex SHA-256 of the key; null when no such key. */
  get(hash: string): Promise<ApiKeyEntry | null>;
}

const STORE_CACHE_MS = 30_000;
const MAX_STORE_CACHE = 10_000;

export { sha256Hex };

/** Checks presented keys against a policy's hashed entries and, when enabled, the key store. */
export class ApiKeyChecker {
  private readonly entries = new Map<string, ApiKeyEntry>();
  private readonly storeCache = new Map<string, { readonly entry: ApiKeyEntry | null; readonly until: number }>();

  constructor(
    spec: ApiKeySpec,
    private readonly store: ApiKeyStore | null,
    private readonly now: () => number = Date.now,
  ) {
    for (const k of spec.keys) this.entries.set(k.hash.slice("sha256:".length), { consumer: k.consumer, metadata: k.metadata, expiresAt: k.expiresAt ? Date.parse(k.expiresAt) : null });
    this.useStore = spec.keyStore;
  }

  private readonly useStore: boolean;

  async check(key: string): Promise<ApiKeyEntry> {
    if (key.length === 0 || key.length > 1024) throw new GatewayError("api_key_invalid", "API key is not valid");
    // Hashing first makes the lookup independent of the key's bytes (no timing oracle on the secret).
    const hash = await sha256Hex(key);
    const entry = this.entries.get(hash) ?? (this.useStore ? await this.fromStore(hash) : null);
    if (entry === null || entry === undefined) throw new GatewayError("api_key_invalid", "API key is not valid");
    if (entry.expiresAt !== null && entry.expiresAt <= this.now()) throw new GatewayError("api_key_expired", `API key of consumer ${entry.consumer} expired at ${new Date(entry.expiresAt).toISOString()}`);
    return entry;
  }

  private async fromStore(hash: string): Promise<ApiKeyEntry | null> {
    const cached = this.storeCache.get(hash);
    if (cached !== undefined && cached.until > this.now()) return cached.entry;
    if (this.store === null) throw new GatewayError("key_store_unavailable", "this policy looks keys up in the key store, but this deployment has none configured");
    let entry: ApiKeyEntry | null;
    try {
      entry = await this.store.get(hash);
    } catch (err) {
      if (cached !== undefined) return cached.entry; // stale beats failing while the store is down
      throw new GatewayError("key_store_unavailable", "API key store is unavailable", undefined, { cause: err });
    }
    if (this.storeCache.size >= MAX_STORE_CACHE) this.storeCache.delete(this.storeCache.keys().next().value!);
    this.storeCache.set(hash, { entry, until: this.now() + STORE_CACHE_MS });
    return entry;
  }
}

/** Parses a key-store value (JSON written by `meshgate apikey create`); null when unusable. */
export function parseStoredKey(text: string | null): ApiKeyEntry | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as { consumer?: unknown; metadata?: unknown; expiresAt?: unknown };
    if (typeof v.consumer !== "string") return null;
    const metadata = typeof v.metadata === "object" && v.metadata !== null ? Object.fromEntries(Object.entries(v.metadata).filter(([, x]) => typeof x === "string")) : {};
    const expiresAt = typeof v.expiresAt === "string" ? Date.parse(v.expiresAt) : null;
    return { consumer: v.consumer, metadata: metadata as Record<string, string>, expiresAt: Number.isNaN(expiresAt) ? null : expiresAt };
  } catch {
    return null;
  }
}
