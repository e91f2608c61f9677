import { createLocalJWKSet, type JSONWebKeySet, type JWK } from "jose";

/** Fetches a JWKS document; the Node runtime supplies one that honours a custom CA. */
export type JwksFetcher = (uri: string, options: { readonly ca?: string | undefined; readonly timeoutMs: number }) => Promise<unknown>;

export type KeyResolver = ReturnType<typeof createLocalJWKSet>;

export interface RemoteJwksSpec {
  readonly uri: string;
  /** `uri` is an OpenID discovery document whose `jwks_uri` names the key set. */
  readonly discovery?: boolean;
  readonly ca?: string | undefined;
  readonly timeout: number;
  readonly cacheDuration: number;
  readonly minRefetchInterval: number;
}

export interface JwksStatus {
  readonly uri: string;
  readonly keys: number;
  readonly fetchedAt: string | null;
  readonly lastError: string | null;
}

export const defaultJwksFetcher: JwksFetcher = async (uri, { timeoutMs }) => {
  // "manual", not "error": Workers refuse redirect "error"; a redirect is refused below either way.
  const res = await fetch(uri, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" }, redirect: "manual" });
  if (!res.ok) throw new Error(`JWKS ${uri} answered ${res.status}${res.status >= 300 && res.status < 400 ? " (redirects are not followed)" : ""}`);
  return res.json();
};

/**
 * Remote key sets shared by every snapshot (a reload keeps the keys it already has).
 * Unlike a fetch-per-miss cache, a source never goes empty once it had keys: a failing
 * JWKS host leaves the last good set in place and the failure in `status()`.
 */
export class JwksRegistry {
  private readonly sources = new Map<string, JwksSource>();
  private pending: Promise<void>[] = [];

  constructor(
    private readonly fetcher: JwksFetcher = defaultJwksFetcher,
    private readonly now: () => number = Date.now,
    private readonly onError?: (err: unknown, context: string) => void,
  ) {}

  private epoch = 0;
  private readonly registeredIn = new WeakMap<JwksSource, number>();

  /** A new snapshot is being prepared: the providers it registers replace older settings. */
  newEpoch(): void {
    this.epoch++;
  }

  /**
   * The source for a key-set URL. Providers of one snapshot sharing a URL share its keys; their
   * settings combine to the most careful: the shortest cache, the longest refetch interval.
   */
  source(spec: RemoteJwksSpec): JwksSource {
    const key = `${spec.uri}\u0000${spec.ca ?? ""}`;
    let source = this.sources.get(key);
    if (source === undefined) this.sources.set(key, (source = new JwksSource(spec, this.fetcher, this.now, this.onError, (p) => this.track(p))));
    else if (this.registeredIn.get(source) !== this.epoch) source.spec = spec;
    else
      source.spec = {
        ...spec,
        cacheDuration: Math.min(spec.cacheDuration, source.spec.cacheDuration),
        minRefetchInterval: Math.max(spec.minRefetchInterval, source.spec.minRefetchInterval),
        timeout: Math.max(spec.timeout, source.spec.timeout),
      };
    this.registeredIn.set(source, this.epoch);
    return source;
  }

  status(): JwksStatus[] {
    return [...this.sources.values()].map((s) => s.status());
  }

  private track(p: Promise<void>): void {
    this.pending.push(p);
    // Settled fetches leave the list, so a runtime that never takes them (Node) keeps none.
    void p.finally(() => {
      this.pending = this.pending.filter((q) => q !== p);
    });
  }

  /**
   * Fetches started in the background (prefetch, stale refresh) since the last call. Workers hand
   * them to `ctx.waitUntil` so they are not cut off when the response that started them is sent.
   */
  takeBackground(): Promise<void>[] {
    const out = this.pending;
    // Nearly every request has none: no new array for it.
    if (out.length > 0) this.pending = [];
    return out;
  }
}

export class JwksSource {
  private resolver: KeyResolver | null = null;
  private keyCount = 0;
  private fetchedAt = -Infinity;
  private attemptedAt = -Infinity;
  private inflight: Promise<void> | null = null;
  private lastError: string | null = null;
  private keysText = "";
  /**
   * Grows each time a fetch brings a key set that differs from the one before. Tokens verified
   * under an older generation are verified again: a key taken out of the set must stop working
   * at once, not when the verified-token cache would have let the token go.
   */
  generation = 0;

  constructor(
    public spec: RemoteJwksSpec,
    private readonly fetcher: JwksFetcher,
    private readonly now: () => number,
    private readonly onError?: (err: unknown, context: string) => void,
    private readonly background: (p: Promise<void>) => void = () => undefined,
  ) {}

  /** Starts the first fetch without waiting for it (called when a snapshot loads). */
  prefetch(): void {
    if (this.resolver === null && this.inflight === null) this.background(this.refresh());
  }

  /** The key set to verify with; waits only when there has never been one. */
  async current(): Promise<KeyResolver | null> {
    if (this.resolver === null) {
      await this.refresh();
      return this.resolver;
    }
    this.refreshIfStale();
    return this.resolver;
  }

  /** Starts a background refresh when the set is older than cacheDuration (also on verified-token cache hits). */
  refreshIfStale(): void {
    if (this.resolver !== null && this.now() - this.fetchedAt > this.spec.cacheDuration && this.inflight === null) this.background(this.refresh());
  }

  /** A token named a kid we do not know: refetch, but no more often than minRefetchInterval. */
  async refetchForUnknownKid(): Promise<KeyResolver | null> {
    if (this.inflight === null && this.now() - this.attemptedAt < this.spec.minRefetchInterval) return null;
    await this.refresh();
    return this.resolver;
  }

  status(): JwksStatus {
    return { uri: this.spec.uri, keys: this.keyCount, fetchedAt: Number.isFinite(this.fetchedAt) ? new Date(this.fetchedAt).toISOString() : null, lastError: this.lastError };
  }

  private refresh(): Promise<void> {
    this.inflight ??= this.load().finally(() => (this.inflight = null));
    return this.inflight;
  }

  private async load(): Promise<void> {
    this.attemptedAt = this.now();
    try {
      const options = { ca: this.spec.ca, timeoutMs: this.spec.timeout };
      const keysUri = this.spec.discovery ? jwksUriOf(await this.fetcher(this.spec.uri, options), this.spec.uri) : this.spec.uri;
      const keys = usableKeys(await this.fetcher(keysUri, options));
      const text = JSON.stringify(keys);
      if (text !== this.keysText) {
        this.keysText = text;
        this.generation++;
      }
      this.resolver = createLocalJWKSet({ keys });
      this.keyCount = keys.length;
      this.fetchedAt = this.now();
      this.lastError = null;
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      this.onError?.(err, `JWKS ${this.spec.uri} (keeping ${this.keyCount} cached keys)`);
    }
  }
}

/** The `jwks_uri` of an OpenID discovery document (re-read on every refresh, so IdP moves are followed). */
function jwksUriOf(doc: unknown, from: string): string {
  const uri = typeof doc === "object" && doc !== null ? (doc as { jwks_uri?: unknown }).jwks_uri : undefined;
  if (typeof uri !== "string" || !/^https?:\/\//.test(uri)) throw new Error(`OpenID discovery document ${from} has no http(s) jwks_uri`);
  return uri;
}

/** Keeps the keys that look like keys: one malformed entry must not take the others down. */
export function usableKeys(doc: unknown): JWK[] {
  if (typeof doc !== "object" || doc === null || !Array.isArray((doc as JSONWebKeySet).keys)) throw new Error("JWKS document has no keys array");
  const keys = (doc as JSONWebKeySet).keys.filter((k): k is JWK => typeof k === "object" && k !== null && typeof (k as JWK).kty === "string");
  if (keys.length === 0) throw new Error("JWKS document has no usable keys");
  return keys;
}
