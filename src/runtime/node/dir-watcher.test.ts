import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { watchPolicyDir, type DirWatcher } from "./dir-watcher.js";

// The poll is set to an hour: every change below must be seen through fs events alone.
const NO_POLL = { debounceMs: 20, pollMs: 3_600_000 };
let watcher: DirWatcher | null = null;
afterEach(() => watcher?.close());

function counter() {
  let calls = 0;
  const waiters: (() => void)[] = [];
  return {
    onChange: () => {
      calls++;
      waiters.splice(0).forEach((w) => w());
    },
    get calls() {
      return calls;
    },
    /** Resolves at the next call after now; fails the test after 5 s. */
    next: () =>
      new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error("no fs event reached the watcher within 5 s")), 5_000);
        waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      }),
  };
}

describe("watchPolicyDir (fs events, no poll)", () => {
  it("sees rename-swaps again and again, cp over the file, saves in place and new subdirectories", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mg-watch-"));
    await writeFile(join(dir, "r.yaml"), "a: 1\n");
    const c = counter();
    watcher = watchPolicyDir(dir, c.onChange, NO_POLL);
    for (let i = 0; i < 3; i++) {
      const seen = c.next();
      await writeFile(join(dir, `.r.yaml.${i}.tmp`), `a: ${i}\n`);
      await rename(join(dir, `.r.yaml.${i}.tmp`), join(dir, "r.yaml"));
      await seen;
    }
    let seen = c.next();
    await writeFile(join(dir, "other.yaml"), "b: 2\n");
    await promisify(execFile)("cp", [join(dir, "other.yaml"), join(dir, "r.yaml")]);
    await seen;
    seen = c.next();
    await writeFile(join(dir, "r.yaml"), "a: in place\n");
    await seen;
    seen = c.next();
    await mkdir(join(dir, "team"));
    await seen;
    // The new directory is watched too: a change inside it is an event of its own.
    await new Promise((r) => setTimeout(r, 60));
    seen = c.next();
    await writeFile(join(dir, "team", "t.yaml"), "c: 3\n");
    await seen;
    await rm(dir, { recursive: true, force: true });
  });

  it("watches a single policy file through its directory, surviving rename-swaps, and ignores its neighbours", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mg-watch-file-"));
    const file = join(dir, "policies.yaml");
    await writeFile(file, "a: 1\n");
    const c = counter();
    watcher = watchPolicyDir(file, c.onChange, NO_POLL);
    for (let i = 0; i < 3; i++) {
      const seen = c.next();
      await writeFile(`${file}.tmp`, `a: ${i}\n`);
      await rename(`${file}.tmp`, file);
      await seen;
    }
    const before = c.calls;
    await writeFile(join(dir, "unrelated.txt"), "x");
    await new Promise((r) => setTimeout(r, 150));
    expect(c.calls).toBe(before);
    await rm(dir, { recursive: true, force: true });
  });
});
