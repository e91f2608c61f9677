import { watch, statSync, readdirSync, type FSWatcher } from "node:fs";
import { basename, dirname, join } from "node:path";

export interface DirWatcher {
  close(): void;
}

export interface DirWatchOptions {
  /** Quiet time after the last event before `onChange` (bursts of events are one change). Default 50 ms. */
  readonly debounceMs?: number;
  /** The safety net for what events miss (network mounts, a replaced directory). Default 2 s. */
  readonly pollMs?: number;
  /** Called at every fs event, before the debounce (a read settling now must start over). */
  readonly onEvent?: () => void;
}

/** What called `onChange`: fs events (something was written), or the safety-net poll. */
export type ChangeReason = "event" | "poll";

/**
 * Calls `onChange` after files under `path` (a directory, or one file) change. One fs.watch per
 * directory: a directory's watch sees rename-swaps, in-place saves and `cp` over a file alike, and
 * keeps working after them (a watch on the file itself dies with the inode a rename replaces, and
 * Node's recursive watch on Linux stops after the first rename). New subdirectories get watched as
 * they appear. A slow poll stays as the safety net; it says so (`reason`), so the caller can compare
 * file stats before reading anything.
 */
export function watchPolicyDir(path: string, onChange: (reason: ChangeReason) => void, options: DirWatchOptions = {}): DirWatcher {
  const debounceMs = options.debounceMs ?? 50;
  const single = isFile(path);
  const watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const fire = () => {
    timer = null;
    if (closed) return;
    if (!single) sync();
    onChange("event");
  };
  const trigger = () => {
    options.onEvent?.();
    if (timer) clearTimeout(timer);
    timer = setTimeout(fire, debounceMs);
  };
  const add = (dir: string, filter: string | null) => {
    if (watchers.has(dir)) return;
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        if (filter === null || name === null || name === filter) trigger();
      });
      // A watched directory that goes away: forget it (sync or the poll picks up what replaces it).
      w.on("error", () => {
        w.close();
        watchers.delete(dir);
        trigger();
      });
      watchers.set(dir, w);
    } catch {
      // Not there (yet): the poll keeps looking.
    }
  };
  /** Watches every (non-hidden) directory under `path`, and stops watching vanished ones. */
  const sync = () => {
    const dirs = new Set<string>();
    collectDirs(path, dirs);
    for (const [dir, w] of watchers) {
      if (!dirs.has(dir)) {
        w.close();
        watchers.delete(dir);
      }
    }
    for (const dir of dirs) add(dir, null);
  };

  if (single) add(dirname(path), basename(path));
  else sync();
  const poll = setInterval(() => {
    if (!single) sync();
    onChange("poll");
  }, options.pollMs ?? 2_000);
  poll.unref();
  return {
    close() {
      closed = true;
      for (const w of watchers.values()) w.close();
      watchers.clear();
      clearInterval(poll);
      if (timer) clearTimeout(timer);
    },
  };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function collectDirs(dir: string, out: Set<string>): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  out.add(dir);
  // Hidden directories (a ConfigMap's "..2026_…" copies) are skipped like the reader skips them;
  // the "..data" symlink flip that publishes them is a rename in `dir` itself.
  for (const e of entries) if (e.isDirectory() && !e.name.startsWith(".")) collectDirs(join(dir, e.name), out);
}
