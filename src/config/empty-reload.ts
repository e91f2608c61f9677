import type { Snapshot } from "../snapshot/snapshot.js";

/**
 * Why `next` must not replace `current`, or null. A writer that truncates a file and then
 * writes it (an editor saving in place, `cp` over the file, a slow `>` redirect) leaves moments
 * where the file is empty: loading it would take every route away. A change that leaves no
 * route at all, or leaves a file that had documents with none, is refused unless the operator
 * allowed it (`serve --allow-empty-reload`). Deleting a file is a deliberate change and applies.
 */
export function emptyReloadRefusal(current: Snapshot, next: Snapshot): string | null {
  const emptied: string[] = [];
  for (const [file, count] of next.documents) {
    const before = current.documents.get(file) ?? 0;
    if (count === 0 && before > 0) emptied.push(`${file} (had ${before})`);
  }
  // The file is the more precise reason: name it first.
  if (emptied.length > 0) return `${emptied.join(", ")} ${emptied.length === 1 ? "has" : "have"} no documents now`;
  if (current.counts.routes > 0 && next.counts.routes === 0) return `the new configuration has no routes (the one in force has ${current.counts.routes})`;
  return null;
}

/** The refusal as the operator reads it in the log and /config. */
export function refusalMessage(reason: string): string {
  return `reload refused: ${reason}; a torn or partial write? keeping the last good configuration (serve --allow-empty-reload applies such a change)`;
}
