import { PolicyError, formatPolicyIssue, type PolicyIssue } from "../policy/issues.js";
import type { PolicySource } from "../policy/parse.js";
import { sourcesHash } from "../policy/source-hash.js";
import { compileSnapshot } from "../snapshot/compile-snapshot.js";
import type { Snapshot, SnapshotSource } from "../snapshot/snapshot.js";

export interface ReloadFailure {
  readonly at: Date;
  readonly message: string;
  readonly issues: readonly PolicyIssue[];
}

export type ReloadResult = { readonly ok: true; readonly snapshot: Snapshot; readonly changed: boolean } | { readonly ok: false; readonly failure: ReloadFailure };

/**
 * Holds the snapshot in force. A reload compiles a complete new snapshot first and swaps
 * a single reference, so in-flight requests finish on the one they started with and an
 * invalid config never replaces the last good one.
 */
export class SnapshotHolder {
  private snapshot: Snapshot | null = null;
  private failure: ReloadFailure | null = null;
  private readonly listeners = new Set<(s: Snapshot) => void>();
  reloads = 0;
  reloadErrors = 0;

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
  recordFailure(message: string): ReloadFailure {
    this.reloadErrors++;
    this.failure = { at: new Date(), message, issues: [] };
    return this.failure;
  }

  async load(sources: readonly PolicySource[], source: SnapshotSource, version?: string): Promise<ReloadResult> {
    // Unchanged sources cost a hash, never a parse and compile: the watcher's poll re-reads often.
    const current = this.snapshot;
    if (current !== null && (version === undefined || version === current.version) && (await sourcesHash(sources)) === current.hash) {
      // The source reads back as the config in force (a broken edit was reverted): the error is over.
      this.failure = null;
      return { ok: true, snapshot: current, changed: false };
    }
    let next: Snapshot;
    try {
      next = await compileSnapshot(sources, source, version);
    } catch (err) {
      this.reloadErrors++;
      const issues = err instanceof PolicyError ? err.issues.filter((i) => i.severity === "error") : [];
      const message = issues.length > 0 ? issues.map(formatPolicyIssue).join("\n") : (err as Error).message;
      this.failure = { at: new Date(), message, issues };
      return { ok: false, failure: this.failure };
    }
    if (this.snapshot !== null && this.snapshot.hash === next.hash && this.snapshot.version === next.version) return { ok: true, snapshot: this.snapshot, changed: false };
    this.snapshot = next;
    this.failure = null;
    this.reloads++;
    for (const listener of this.listeners) listener(next);
    return { ok: true, snapshot: next, changed: true };
  }
}
