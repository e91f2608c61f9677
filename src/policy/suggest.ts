/**
 * The known name an unknown one was most likely meant to be (typo, British spelling, singular
 * for plural, wrong case), or null when none is close enough to be a useful guess.
 */
export function suggestField(unknown: string, known: readonly string[]): string | null {
  const lower = unknown.toLowerCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const c = candidate.toLowerCase();
    // Singular/plural and case slips are the commonest mistakes; they always win.
    if (c === lower || c === `${lower}s` || `${c}s` === lower) return candidate;
    const d = editDistance(lower, c);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // A third of the name may differ (authorisation → authorization, burstt → burst), at most 3 edits.
  const allowed = unknown.length < 3 ? 0 : Math.min(3, Math.max(1, Math.floor(unknown.length / 3)));
  return bestDistance <= allowed ? best : null;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > 8) return Math.abs(a.length - b.length);
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
