/** Files whose change is held back, and how long until the last of them has been quiet long enough. */
export interface ShrinkHold {
  readonly files: readonly { readonly file: string; readonly had: number; readonly has: number }[];
  readonly waitMs: number;
}

/**
 * A file that now holds fewer documents than the version in force, and was written less than
 * `holdMs` ago, may be a writer that paused between two documents (truncate, write the first
 * ones, …): loading it would serve a smaller configuration until the writer goes on. Such a
 * change is held until the file has gone `holdMs` without a write, then applied as the
 * deliberate removal it then is. A file that gained or kept its documents, or was deleted (an
 * unlink or a rename is atomic), is never held. Null: nothing to hold.
 */
export function shrinkHold(inForce: ReadonlyMap<string, number>, next: readonly (readonly [string, number])[], modified: ReadonlyMap<string, number>, now: number, holdMs: number): ShrinkHold | null {
  const files: { file: string; had: number; has: number }[] = [];
  let waitMs = 0;
  for (const [file, has] of next) {
    const had = inForce.get(file);
    if (had === undefined || has >= had) continue;
    const quietFor = now - (modified.get(file) ?? 0);
    if (quietFor >= holdMs) continue;
    files.push({ file, had, has });
    waitMs = Math.max(waitMs, holdMs - quietFor);
  }
  return files.length === 0 ? null : { files, waitMs: Math.ceil(waitMs) };
}
