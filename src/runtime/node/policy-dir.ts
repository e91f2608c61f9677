import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
// A directory holds files, so its sources are always text.
import type { TextSource as PolicySource } from "../../policy/parse.js";

const POLICY_FILE = /\.(ya?ml|json)$/i;

/** Every .yaml, .yml and .json file under `dir` (hidden entries skipped, sorted for stable order). */
export async function readPolicyDir(dir: string): Promise<PolicySource[]> {
  return (await readWithStats(dir)).sources;
}

/** Sources as read, with the stat line of every file (inode, size, mtime) and each file's mtime. */
export interface PolicyRead {
  readonly sources: PolicySource[];
  /** One line per file listed: a change to any file or to the listing changes it. */
  readonly stats: string;
  /** Last modification of each file read, in ms since the epoch. */
  readonly modified: ReadonlyMap<string, number>;
}

export interface StableReadOptions {
  readonly settleMs: number;
  readonly maxMs: number;
  /** True when these sources are the config in force: no second read is needed. */
  readonly isCurrent: (s: PolicySource[]) => Promise<boolean>;
  /** When the watcher last saw an fs event under `dir` (ms since the epoch; 0 for never). */
  readonly lastEventAt?: () => number;
  /**
   * Runs on a read while the settle wait goes by (the timer is already running): work on sources
   * that are most likely the ones returned, so the wait costs no time (the worker parses then).
   */
  readonly whileSettling?: (sources: PolicySource[]) => void;
}

/**
 * Reads `dir` until it holds still: two reads `settleMs` apart agree (same files, sizes, mtimes,
 * inodes and text) and no fs event arrived since the first of them began, so a writer that
 * truncates and then writes is never caught halfway. Sources that `isCurrent` (the config in
 * force) need no second read. Throws when the files are still changing after `maxMs`; the next
 * change or poll tries again.
 */
export async function readStablePolicyDir(dir: string, options: StableReadOptions): Promise<PolicyRead> {
  const eventAt = options.lastEventAt ?? (() => 0);
  let began = Date.now();
  let previous = await readWithStats(dir);
  if (await options.isCurrent(previous.sources)) return previous;
  const deadline = began + options.maxMs;
  for (;;) {
    const settled = new Promise((r) => setTimeout(r, options.settleMs));
    options.whileSettling?.(previous.sources);
    await settled;
    const next = await readWithStats(dir);
    if (next.stats === previous.stats && eventAt() < began && next.sources.every((s, i) => s.text === previous.sources[i]!.text)) return next;
    if (Date.now() > deadline) throw new PoliciesChanging(`policies under ${dir} kept changing for ${options.maxMs} ms; waiting for the next change`);
    // The second read is the first of the next pair: it began after the settle wait.
    began = Date.now() - 1;
    previous = next;
  }
}

/** The files did not hold still long enough to be read whole; nothing to report as a failure. */
export class PoliciesChanging extends Error {}

/** The stat line of `dir`'s policy files without reading them: what the poll compares first. */
export async function statPolicyDir(dir: string): Promise<string> {
  const files = await listPolicyFiles(dir);
  const lines = await Promise.all(files.map((f) => stat(f).then((s) => statLine(f, s), () => `${f}\u0000gone`)));
  return lines.join("\n");
}

const statLine = (f: string, s: { ino: number; size: number; mtimeMs: number }) => `${f}\u0000${s.ino}:${s.size}:${s.mtimeMs}`;

async function listPolicyFiles(dir: string): Promise<string[]> {
  const info = await stat(dir).catch(() => null);
  if (info === null) throw new Error(`policy directory ${dir} does not exist`);
  const files: string[] = [];
  if (info.isFile()) files.push(dir);
  else await walk(dir, files);
  return files.sort();
}

async function readWithStats(dir: string): Promise<PolicyRead> {
  const files = await listPolicyFiles(dir);
  const modified = new Map<string, number>();
  // Names as the operator typed the directory, so errors point where they look.
  const read = await Promise.all(
    files.map(async (f) => {
      try {
        const [s, text] = await Promise.all([stat(f), readFile(f, "utf8")]);
        modified.set(f, s.mtimeMs);
        return { source: { name: f, text }, stat: statLine(f, s) };
      } catch (err) {
        // Gone between listing and reading (a temporary file, a rename under way): read as absent.
        if ((err as NodeJS.ErrnoException).code === "ENOENT" && f !== dir) return { source: null, stat: `${f}\u0000gone` };
        throw err;
      }
    }),
  );
  return { sources: read.flatMap((r) => (r.source === null ? [] : [r.source])), stats: read.map((r) => r.stat).join("\n"), modified };
}

async function walk(dir: string, out: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    // Kubernetes ConfigMap mounts keep old copies in "..data"-style hidden dirs.
    if (entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(path, out);
    else if (POLICY_FILE.test(entry.name) && (entry.isFile() || entry.isSymbolicLink())) out.push(path);
  }
}

