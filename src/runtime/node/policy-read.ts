import { ParseCache } from "../../policy/parse-cache.js";
import { parseSourcesWith, YamlPackageNeeded, type PolicySource, type YamlPackage } from "../../policy/parse-sources.js";
import { sourcesHash } from "../../policy/source-hash.js";
import { prepareWith, type PreparedPolicies } from "../../snapshot/prepare-with.js";
import { PoliciesChanging, readStablePolicyDir, statPolicyDir } from "./policy-dir.js";

export interface ReadRequest {
  readonly dir: string;
  /** False for the safety-net poll: unchanged file stats then answer `unchanged` without a read. */
  readonly full: boolean;
  /** Hash of the config in force (null before the first): sources that hash to it answer `current`. */
  readonly currentHash: string | null;
  readonly settleMs: number;
  readonly maxMs: number;
}

export type ReadAnswer =
  /** The poll found every file's inode, size and mtime as the last read left them. */
  | { readonly kind: "unchanged" }
  /** The files read back as the config in force. */
  | { readonly kind: "current" }
  /** The files did not hold still for `maxMs`. */
  | { readonly kind: "changing"; readonly message: string }
  /** The directory or a file could not be read. */
  | { readonly kind: "failed"; readonly message: string }
  /** New sources, parsed and validated; `modified` is each file's mtime (ms since the epoch). */
  | { readonly kind: "prepared"; readonly prepared: PreparedPolicies; readonly modified: ReadonlyMap<string, number>; readonly parsed: number };

/**
 * Read, settle, hash, parse and validate: everything a reload does before compiling, for the
 * worker thread (policy-worker.ts) or, where there is none, the calling thread. Keeps what the
 * next read needs: the last stats (so an idle poll costs a few stat calls) and parsed documents.
 */
export class PolicyReadState {
  private lastStats: string | null = null;
  private lastEventAt = 0;

  constructor(private readonly cache?: ParseCache) {}

  /** The watcher saw an fs event at `at` (ms since the epoch): a read settling now must start over. */
  touched(at: number): void {
    this.lastEventAt = Math.max(this.lastEventAt, at);
  }

  /** The `yaml` package's parser, once a text needed it (most never do: the cache's fast parser reads them). */
  private yamlPackage: YamlPackage | null = null;
  private yamlLoading: Promise<void> | null = null;

  private loadYamlPackage(): Promise<void> {
    return (this.yamlLoading ??= import("../../policy/yaml-package.js").then((m) => {
      this.yamlPackage = m.YAML_PACKAGE;
    }));
  }

  /** Throws YamlPackageNeeded when a text needs the yaml package and it is not loaded yet. */
  private prepare(sources: readonly PolicySource[], hash: string, options: { readonly cache?: ParseCache }): PreparedPolicies {
    return prepareWith((s, o) => parseSourcesWith(this.yamlPackage, s, o), sources, hash, options);
  }

  /** `prepare`, loading the yaml package first when a text needs it (the cache keeps what the first attempt parsed). */
  private async prepareLoading(sources: readonly PolicySource[], hash: string, options: { readonly cache?: ParseCache }): Promise<PreparedPolicies> {
    try {
      return this.prepare(sources, hash, options);
    } catch (err) {
      if (!(err instanceof YamlPackageNeeded)) throw err;
      await this.loadYamlPackage();
      return this.prepare(sources, hash, options);
    }
  }

  async read(request: ReadRequest): Promise<ReadAnswer> {
    try {
      if (!request.full && this.lastStats !== null && (await statPolicyDir(request.dir)) === this.lastStats) return { kind: "unchanged" };
      this.lastStats = null;
      const hashes = new WeakMap<readonly PolicySource[], Promise<string>>();
      const hashOf = (s: readonly PolicySource[]) => {
        let h = hashes.get(s);
        if (h === undefined) hashes.set(s, (h = sourcesHash(s)));
        return h;
      };
      const options = this.cache !== undefined ? { cache: this.cache } : {};
      // Sources prepared during the settle wait; the hash is filled in once known.
      let early: { sources: readonly PolicySource[]; prepared: PreparedPolicies } | null = null;
      const read = await readStablePolicyDir(request.dir, {
        settleMs: request.settleMs,
        maxMs: request.maxMs,
        isCurrent: async (s) => request.currentHash !== null && (await hashOf(s)) === request.currentHash,
        lastEventAt: () => this.lastEventAt,
        whileSettling: (sources) => {
          try {
            early = { sources, prepared: this.prepare(sources, "", options) };
          } catch (err) {
            // Prepared once the read is done, with the yaml package loaded meanwhile.
            if (!(err instanceof YamlPackageNeeded)) throw err;
            void this.loadYamlPackage();
          }
        },
      });
      const hash = await hashOf(read.sources);
      this.lastStats = read.stats;
      if (hash === request.currentHash) return { kind: "current" };
      const ready = early as { sources: readonly PolicySource[]; prepared: PreparedPolicies } | null;
      const prepared = ready !== null && sameSources(ready.sources, read.sources) ? { ...ready.prepared, hash } : await this.prepareLoading(read.sources, hash, options);
      return { kind: "prepared", prepared, modified: read.modified, parsed: this.cache?.lastParsed ?? prepared.documents.reduce((n, [, c]) => n + c, 0) };
    } catch (err) {
      if (err instanceof PoliciesChanging) return { kind: "changing", message: err.message };
      return { kind: "failed", message: (err as Error).message };
    }
  }
}

/** Same files with the same texts, in the same order. */
function sameSources(a: readonly PolicySource[], b: readonly PolicySource[]): boolean {
  return a.length === b.length && a.every((s, i) => s.name === b[i]!.name && "text" in s && "text" in b[i]! && s.text === (b[i] as { text: string }).text);
}
