import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
// A directory holds files, so its sources are always text.
import type { TextSource as PolicySource } from "../../policy/parse.js";

const POLICY_FILE = /\.(ya?ml|json)$/i;

/** Every .yaml, .yml and .json file under `dir` (hidden entries skipped, sorted for stable order). */
export async function readPolicyDir(dir: string): Promise<PolicySource[]> {
  return (await readWithStats(dir)).sources;
}

/**
 * Reads `dir` until two reads `settleMs` apart agree (same files, sizes, mtimes, inodes and text),
 * so a writer that truncates and then writes is never caught halfway. Sources that `isCurrent`
 * (the config in force) need no second read. Throws when the files are still changing after
 * `maxMs`; the next change or poll tries again.
 */
export async function readStablePolicyDir(dir: string, options: { settleMs: number; maxMs: number; isCurrent: (s: PolicySource[]) => Promise<boolean> }): Promise<PolicySource[]> {
  let previous = await readWithStats(dir);
  if (await options.isCurrent(previous.sources)) return previous.sources;
  const deadline = Date.now() + options.maxMs;
  for (;;) {
    await new Promise((r) => setTimeout(r, options.settleMs));
    const next = await readWithStats(dir);
    if (next.stats === previous.stats && next.sources.every((s, i) => s.text === previous.sources[i]!.text)) return next.sources;
    if (Date.now() > deadline) throw new PoliciesChanging(`policies under ${dir} kept changing for ${options.maxMs} ms; waiting for the next change`);
    previous = next;
  }
}

/** The files did not hold still long enough to be read whole; nothing to report as a failure. */
export class PoliciesChanging extends Error {}

async function readWithStats(dir: string): Promise<{ sources: PolicySource[]; stats: string }> {
  const info = await stat(dir).catch(() => null);
  if (info === null) throw new Error(`policy directory ${dir} does not exist`);
  const files: string[] = [];
  if (info.isFile()) files.push(dir);
  else await walk(dir, files);
  files.sort();
  // Names as the operator typed the directory, so errors point where they look.
  const read = await Promise.all(
    files.map(async (f) => {
      try {
        const [s, text] = await Promise.all([stat(f), readFile(f, "utf8")]);
        return { source: { name: f, text }, stat: `${f}\u0000${s.ino}:${s.size}:${s.mtimeMs}` };
      } catch (err) {
        // Gone between listing and reading (a temporary file, a rename under way): read as absent.
        if ((err as NodeJS.ErrnoException).code === "ENOENT" && f !== dir) return { source: null, stat: `${f}\u0000gone` };
        throw err;
      }
    }),
  );
  return { sources: read.flatMap((r) => (r.source === null ? [] : [r.source])), stats: read.map((r) => r.stat).join("\n") };
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

