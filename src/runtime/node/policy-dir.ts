import { watch, type FSWatcher } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { PolicySource } from "../../policy/parse.js";

const POLICY_FILE = /\.(ya?ml|json)$/i;

/** Every .yaml, .yml and .json file under `dir` (hidden entries skipped, sorted for stable order). */
export async function readPolicyDir(dir: string): Promise<PolicySource[]> {
  const info = await stat(dir).catch(() => null);
  if (info === null) throw new Error(`policy directory ${dir} does not exist`);
  if (info.isFile()) return [{ name: dir, text: await readFile(dir, "utf8") }];
  const files: string[] = [];
  await walk(dir, files);
  files.sort();
  // Names as the operator typed the directory, so errors point where they look.
  return Promise.all(files.map(async (f) => ({ name: f, text: await readFile(f, "utf8") })));
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

export interface DirWatcher {
  close(): void;
}

/**
 * Calls `onChange` after files under `dir` change. fs.watch gives speed; a slow poll
 * catches what it misses (editors' rename-swaps, ConfigMap symlink flips, network mounts).
 * The caller compares content hashes, so spurious calls are cheap.
 */
export function watchPolicyDir(dir: string, onChange: () => void, options: { debounceMs?: number; pollMs?: number } = {}): DirWatcher {
  const debounceMs = options.debounceMs ?? 100;
  let timer: NodeJS.Timeout | null = null;
  const trigger = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, debounceMs);
  };
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(dir, { recursive: true }, trigger);
    watcher.on("error", () => undefined);
  } catch {
    watcher = null;
  }
  const poll = setInterval(onChange, options.pollMs ?? 2_000);
  poll.unref();
  return {
    close() {
      watcher?.close();
      clearInterval(poll);
      if (timer) clearTimeout(timer);
    },
  };
}
