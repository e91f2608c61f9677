import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";
import type { DiscoveredAddresses, ServiceDiscovery } from "../../upstream/discovery.js";

export interface DnsDiscoveryOptions {
  /** `HOST:PORT` (or `[v6]:PORT`, or an address alone for port 53) of the DNS server; default: the system's. */
  readonly server?: string;
  readonly clusterDomain?: string;
  /** Record TTLs are bounded to [minTtlMs, maxTtlMs] (default 5–30 s): never hammered, never stale for long. */
  readonly minTtlMs?: number;
  readonly maxTtlMs?: number;
  /** Per query (default 1 s, 2 tries). */
  readonly timeoutMs?: number;
  /** After a failure, the next try comes this soon (default: minTtlMs). */
  readonly retryMs?: number;
  /** Called after a name's addresses changed (pools and health checks follow). */
  readonly onChange?: (hostname: string) => void;
  /** Called on each answer or failure, for the log and metrics. */
  readonly onResult?: (event: DnsResult) => void;
}

export type DnsResult =
  | { readonly kind: "answer"; readonly hostname: string; readonly addresses: readonly string[]; readonly changed: boolean; readonly ttlMs: number }
  | { readonly kind: "failure"; readonly hostname: string; readonly error: string; readonly kept: readonly string[] };

/** What `/config` shows of one name. */
export interface DnsStatus {
  readonly hostname: string;
  readonly addresses: readonly string[];
  readonly ttlMs: number | null;
  readonly resolvedAt: string | null;
  /** The last failure while it lasts; the answer in force is the last good one. */
  readonly error: { readonly at: string; readonly message: string; readonly consecutive: number } | null;
}

interface Entry extends DiscoveredAddresses {
  addresses: readonly string[];
  generation: number;
  ttlMs: number | null;
  resolvedAt: Date | null;
  error: { at: Date; message: string; consecutive: number } | null;
  timer: NodeJS.Timeout | null;
  first: Promise<void>;
  settle: () => void;
}

/** Errors that mean "this name has no record of that family", not "DNS failed". */
const NO_RECORDS = new Set(["ENODATA"]);

/**
 * Service discovery by DNS A/AAAA records (`S.N.svc.<cluster-domain>`): a headless Service's
 * pod addresses or a ClusterIP. Each watched name is re-resolved in the background when its
 * TTL (bounded) runs out; a failure keeps the last good answer, says so in `status()`, and
 * tries again soon. Nothing here runs on a request's path.
 */
export class DnsDiscovery implements ServiceDiscovery {
  readonly clusterDomain: string;
  private readonly resolver: Resolver;
  private readonly entries = new Map<string, Entry>();
  private readonly minTtlMs: number;
  private readonly maxTtlMs: number;
  private readonly retryMs: number;
  private closed = false;

  constructor(private readonly options: DnsDiscoveryOptions = {}) {
    this.clusterDomain = options.clusterDomain ?? "cluster.local";
    this.minTtlMs = options.minTtlMs ?? 5_000;
    this.maxTtlMs = Math.max(this.minTtlMs, options.maxTtlMs ?? 30_000);
    this.retryMs = options.retryMs ?? this.minTtlMs;
    this.resolver = new Resolver({ timeout: options.timeoutMs ?? 1_000, tries: 2 });
    if (options.server !== undefined) this.resolver.setServers([normalizeServer(options.server)]);
  }

  watch(hostname: string): DiscoveredAddresses {
    const known = this.entries.get(hostname);
    if (known !== undefined) return known;
    let settle!: () => void;
    const first = new Promise<void>((resolve) => (settle = resolve));
    const entry: Entry = { addresses: [], generation: 0, ttlMs: null, resolvedAt: null, error: null, timer: null, first, settle };
    this.entries.set(hostname, entry);
    void this.resolve(hostname, entry);
    return entry;
  }

  async settled(hostnames: readonly string[], ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    const firsts = hostnames.map((h) => this.entries.get(h)?.first ?? Promise.resolve());
    await Promise.race([Promise.all(firsts), limit]);
    clearTimeout(timer);
  }

  /** Stops resolving names the configuration in force no longer uses. */
  retain(hostnames: readonly string[]): void {
    const keep = new Set(hostnames);
    for (const [hostname, entry] of this.entries) {
      if (keep.has(hostname)) continue;
      if (entry.timer !== null) clearTimeout(entry.timer);
      this.entries.delete(hostname);
    }
  }

  status(): DnsStatus[] {
    return [...this.entries].map(([hostname, e]) => ({
      hostname,
      addresses: e.addresses,
      ttlMs: e.ttlMs,
      resolvedAt: e.resolvedAt?.toISOString() ?? null,
      error: e.error === null ? null : { at: e.error.at.toISOString(), message: e.error.message, consecutive: e.error.consecutive },
    }));
  }

  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) if (e.timer !== null) clearTimeout(e.timer);
    this.entries.clear();
    this.resolver.cancel();
  }

  private async resolve(hostname: string, entry: Entry): Promise<void> {
    const [v4, v6] = await Promise.allSettled([this.resolver.resolve4(hostname, { ttl: true }), this.resolver.resolve6(hostname, { ttl: true })]);
    if (this.closed || this.entries.get(hostname) !== entry) return;
    const records = [...(v4.status === "fulfilled" ? v4.value : []), ...(v6.status === "fulfilled" ? v6.value : [])];
    const failures = [v4, v6].filter((r): r is PromiseRejectedResult => r.status === "rejected" && !NO_RECORDS.has(errorCode(r.reason)));
    let next: number;
    if (records.length === 0) {
      // NXDOMAIN, SERVFAIL, a timeout, a server gone, or no record at all: keep the last good answer.
      const message = failures.length > 0 ? describe(failures[0]!.reason) : "no A or AAAA records";
      entry.error = { at: new Date(), message, consecutive: (entry.error?.consecutive ?? 0) + 1 };
      this.options.onResult?.({ kind: "failure", hostname, error: message, kept: entry.addresses });
      next = this.retryMs;
    } else {
      const addresses = [...new Set(records.map((r) => r.address))].sort();
      const ttlMs = Math.min(this.maxTtlMs, Math.max(this.minTtlMs, Math.min(...records.map((r) => r.ttl)) * 1000));
      const changed = addresses.length !== entry.addresses.length || addresses.some((a, i) => a !== entry.addresses[i]);
      entry.ttlMs = ttlMs;
      entry.resolvedAt = new Date();
      entry.error = null;
      if (changed) {
        entry.addresses = addresses;
        entry.generation++;
      }
      this.options.onResult?.({ kind: "answer", hostname, addresses, changed, ttlMs });
      if (changed) this.options.onChange?.(hostname);
      next = ttlMs;
    }
    entry.settle();
    entry.timer = setTimeout(() => void this.resolve(hostname, entry), next);
    entry.timer.unref();
  }
}

/** `127.0.0.1:5353` / `[::1]:5353` / `10.96.0.10` as node:dns wants them; anything else throws. */
export function normalizeServer(server: string): string {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  const [host, port] = v6 !== null ? [v6[1]!, v6[2]] : server.includes(":") && isIP(server) !== 6 ? [server.slice(0, server.lastIndexOf(":")), server.slice(server.lastIndexOf(":") + 1)] : [server, undefined];
  if (isIP(host) === 0) throw new Error(`--dns-server must be an IP address with an optional port, e.g. 127.0.0.1:53 or [::1]:53 (got "${server}")`);
  if (port !== undefined && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) throw new Error(`--dns-server port must be 1-65535 (got "${server}")`);
  const p = port ?? "53";
  return isIP(host) === 6 ? `[${host}]:${p}` : `${host}:${p}`;
}

function errorCode(err: unknown): string {
  return typeof err === "object" && err !== null && "code" in err ? String((err as { code: unknown }).code) : "";
}

function describe(err: unknown): string {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  return code !== "" && !message.includes(code) ? `${code}: ${message}` : message;
}
