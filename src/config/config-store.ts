import type { BundleSummary, PolicyBundle } from "./bundle.js";

/** Bundles kept for rollback. */
export const HISTORY_LIMIT = 10;

/** Where gateways read their configuration from: Workers KV, Redis, a file, memory. */
export interface ConfigStore {
  /** e.g. "redis://127.0.0.1:6379 (prefix meshgate)", "kv:POLICIES", "file:/etc/meshgate/bundle.json" */
  readonly description: string;
  /** The current bundle's raw text, or null when nothing was published yet. */
  readCurrent(): Promise<string | null>;
  /** Calls `onChange` when a new bundle may be available; returns a function that stops watching. */
  watch?(onChange: () => void): () => void;
  close?(): Promise<void>;
}

/** A store that `meshgate publish` and `meshgate rollback` can write. */
export interface PublishTarget {
  readonly description: string;
  /** The version to give the next bundle (current + 1, atomically where the store can). */
  nextVersion(): Promise<number>;
  /** Writes the bundle and makes it current in one step readers observe atomically. */
  write(bundle: PolicyBundle): Promise<void>;
  /** Newest first, at most HISTORY_LIMIT. */
  history(): Promise<BundleSummary[]>;
  get(version: number): Promise<PolicyBundle | null>;
  close?(): Promise<void>;
}
