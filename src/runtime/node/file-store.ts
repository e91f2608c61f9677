import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { decodeBundle, summarize, type BundleSummary, type PolicyBundle } from "../../config/bundle.js";
import { HISTORY_LIMIT, type ConfigStore, type PublishTarget } from "../../config/config-store.js";
import { watchPolicyDir } from "./dir-watcher.js";

interface FileContent {
  readonly current: PolicyBundle | null;
  readonly history: readonly PolicyBundle[];
}

/**
 * One JSON file holding the current bundle and the kept history. Written to a temporary
 * file and renamed, so a reader sees the old file or the new one, never a partial write.
 */
export class FileStore implements ConfigStore, PublishTarget {
  readonly description: string;

  constructor(private readonly path: string) {
    this.description = `file:${path}`;
  }

  async readCurrent(): Promise<string | null> {
    const text = await readFile(this.path, "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return null;
      throw err;
    });
    if (text === null) return null;
    // The file wraps the bundle; readers decode and verify the bundle itself.
    try {
      const content = JSON.parse(text) as { current?: unknown };
      return content.current === undefined || content.current === null ? null : JSON.stringify(content.current);
    } catch {
      return text;
    }
  }

  watch(onChange: () => void): () => void {
    const w = watchPolicyDir(dirname(this.path), onChange, { pollMs: 2_000 });
    return () => w.close();
  }

  async nextVersion(): Promise<number> {
    const content = await this.load();
    return (content.current?.version ?? 0) + 1;
  }

  async write(bundle: PolicyBundle): Promise<void> {
    const content = await this.load();
    if (content.current !== null && content.current.version >= bundle.version) throw new Error(`version ${bundle.version} is not newer than ${content.current.version} in ${this.description}`);
    const next: FileContent = { current: bundle, history: [bundle, ...content.history].slice(0, HISTORY_LIMIT) };
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(next));
    await rename(tmp, this.path);
  }

  async history(): Promise<BundleSummary[]> {
    return (await this.load()).history.map(summarize);
  }

  async get(version: number): Promise<PolicyBundle | null> {
    const found = (await this.load()).history.find((b) => b.version === version);
    return found === undefined ? null : decodeBundle(JSON.stringify(found));
  }

  private async load(): Promise<FileContent> {
    try {
      return JSON.parse(await readFile(this.path, "utf8")) as FileContent;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { current: null, history: [] };
      throw new Error(`cannot read ${this.description}: ${(err as Error).message}`);
    }
  }
}
