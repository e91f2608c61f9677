import { PolicyError, formatPolicyIssue, type PolicyIssue } from "../policy/issues.js";
import type { PolicySource } from "../policy/parse.js";
import { sourcesHash } from "../policy/source-hash.js";
import { compilePrepared, type CompileOptions, type CompileYield } from "../snapshot/compile-prepared.js";
import type { PreparedPolicies } from "../snapshot/prepare.js";
import type { Snapshot, SnapshotSource } from "../snapshot/snapshot.js";
import { emptyReloadRefusal, refusalMessage } from "./empty-reload.js";
import { CompileMemo } from "../snapshot/compile-memo.js";

export interface ReloadFailure {
  readonly at: Date;
  readonly message: string;
  readonly issues: readonly PolicyIssue[];
  /** A valid configuration that was not applied (it would have emptied the routes or a file). */
  readonly refused: boolean;
}

/** `repeated`: the same sources failed the same way last time (already counted and logged). */
export type ReloadResult = { readonly ok: true; readonly snapshot: Snapshot; readonly changed: boolean } | { readonly ok: false; readonly failure: ReloadFailure; readonly repeated: boolean };

/** Parse, validate and compile policy sources (compileSnapshot, compile-snapshot.ts). */
export type CompileSources = (sources: readonly PolicySource[], source: SnapshotSource, version: string | undefined, options: CompileOptions | undefined) => Promise<Snapshot>;

export interface SnapshotHolderOptions {
  /** Refuse a reload that leaves no route, or leaves a file that had documents with none (torn writes). Default false. */
  readonly refuseEmptyReload?: boolean;
  /** Passed to every compile (service discovery, the gateway's namespace and cluster domain). */
  readonly compile?: CompileOptions;
  /**
   * What `load` compiles sources with. SnapshotHolder (snapshot-holder.ts) gives compileSnapshot;
   * a PreparedSnapshotHolder without it loads prepared policies only (`loadPrepared`), and so
   * never loads the YAML parser or the schemas.
   */
  readonly compileSources?: CompileSources;
}

/**
 * Holds the snapshot in force. A reload compiles a complete new snapshot first and swaps
 * a single reference, so in-flight requests finish on the one they started with and an
 * invalid config never replaces the last good one. The Node gateway's serving thread uses this
 * class itself (its policy worker prepares the policies); SnapshotHolder adds the parser.
 */
export class PreparedSnapshotHolder {
  private snapshot: Snapshot | null = null;
  private failure: ReloadFailure | null = null;
  /** Version and hash of the sources `failure` is about, so a poll re-reading them costs one hash. */
  private failedAttempt: string | null = null;
  private readonly listeners = new Set<(s: Snapshot) => void>();
  reloads = 0;
  reloadErrors = 0;
  /** What the last compile of prepared policies kept: a reload recompiles only the documents that changed. */
  private readonly memo = new CompileMemo();

  constructor(private readonly options: SnapshotHolderOptions = {}) {}

  /** The snapshot in force; throws before the first successful load. */
  current(): Snapshot {
    if (this.snapshot === null) throw new Error("no configuration loaded yet");
    return this.snapshot;
  }

  get ready(): boolean {
    return this.snapshot !== null;
  }

  get lastFailure(): ReloadFailure | null {
    return this.failure;
  }

  onSwap(listener: (s: Snapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Notes a refused update that never reached compilation (a corrupt bundle, say). */
  recordFailure(message: string, refused = false): ReloadFailure {
    this.reloadErrors++;
    this.failure = { at: new Date(), message, issues: [], refused };
    this.failedAttempt = null;
    return this.failure;
  }

  /** True when `sources` are the configuration in force (one hash, shared with the `load` that follows). */
  async isCurrent(sources: readonly PolicySource[]): Promise<boolean> {
    return this.snapshot !== null && (await this.hashOf(sources)) === this.snapshot.hash;
  }

  /** The source read back as the config in force (after an outage or a reverted edit): no error any more. */
  clearFailure(): void {
    this.failure = null;
    this.failedAttempt = null;
  }

  async load(sources: readonly PolicySource[], source: SnapshotSource, version?: string): Promise<ReloadResult> {
    // Unchanged sources cost a hash, never a parse and compile: the watcher's poll re-reads often.
    const hash = await this.hashOf(sources);
    const compileSources = this.options.compileSources;
    if (compileSources === undefined) throw new Error("this holder loads prepared policies only (loadPrepared); give it compileSources to load sources");
    return this.loadWith(hash, version, () => compileSources(sources, source, version, this.options.compile));
  }

  /**
   * Loads policies parsed and validated elsewhere (a worker thread); `breathe` spaces the compile
   * out so the thread that serves requests is never held for long (compile-slices.ts). Documents
   * that are the same objects as last time (the worker's cache hands them back) reuse their
   * compiled routes (compile-memo.ts).
   */
  loadPrepared(prepared: PreparedPolicies, source: SnapshotSource, breathe?: CompileYield): Promise<ReloadResult> {
    return this.loadWith(prepared.hash, undefined, () => compilePrepared(prepared, source, undefined, this.options.compile, breathe, this.memo));
  }

  private async loadWith(hash: string, version: string | undefined, compile: () => Promise<Snapshot>): Promise<ReloadResult> {
    const current = this.snapshot;
    if (current !== null && (version === undefined || version === current.version) && hash === current.hash) {
      // The source reads back as the config in force (a broken edit was reverted): the error is over.
      this.failure = null;
      this.failedAttempt = null;
      return { ok: true, snapshot: current, changed: false };
    }
    const attempt = `${version ?? ""}\u0000${hash}`;
    if (this.failure !== null && this.failedAttempt === attempt) return { ok: false, failure: this.failure, repeated: true };
    let next: Snapshot;
    try {
      next = await compile();
    } catch (err) {
      const issues = err instanceof PolicyError ? err.issues.filter((i) => i.severity === "error") : [];
      const message = issues.length > 0 ? issues.map(formatPolicyIssue).join("\n") : (err as Error).message;
      return this.fail({ at: new Date(), message, issues, refused: false }, attempt);
    }
    if (this.snapshot !== null && this.snapshot.hash === next.hash && this.snapshot.version === next.version) return { ok: true, snapshot: this.snapshot, changed: false };
    const refusal = this.snapshot !== null && this.options.refuseEmptyReload === true ? emptyReloadRefusal(this.snapshot, next) : null;
    if (refusal !== null) return this.fail({ at: new Date(), message: refusalMessage(refusal), issues: [], refused: true }, attempt);
    this.snapshot = next;
    this.failure = null;
    this.failedAttempt = null;
    this.reloads++;
    for (const listener of this.listeners) listener(next);
    return { ok: true, snapshot: next, changed: true };
  }

  private readonly hashes = new WeakMap<readonly PolicySource[], Promise<string>>();
  private hashOf(sources: readonly PolicySource[]): Promise<string> {
    let hash = this.hashes.get(sources);
    if (hash === undefined) this.hashes.set(sources, (hash = sourcesHash(sources)));
    return hash;
  }

  private fail(failure: ReloadFailure, attempt: string): ReloadResult {
    this.reloadErrors++;
    this.failure = failure;
    this.failedAttempt = attempt;
    return { ok: false, failure, repeated: false };
  }
}
