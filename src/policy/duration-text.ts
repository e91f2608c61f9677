// Durations as text, apart from their schema (duration.ts): the CLI and the serving thread read
// and write them without loading zod.

/** A Gateway API Duration: up to four number-and-unit pairs. */
export const DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;

/** The longest delay a JavaScript timer keeps (2^31 - 1 ms, ~24.8 days); longer ones fire at once. */
export const MAX_DURATION_MS = 2_147_483_647;

/** Gateway API Duration ("1h30m", "500ms", "0s") to milliseconds; throws on bad input. */
export function parseDuration(text: string): number {
  if (!DURATION.test(text)) throw new Error(`invalid duration "${text}"`);
  let total = 0;
  for (const [, n, unit] of text.matchAll(/([0-9]+)(ms|h|m|s)/g)) total += Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
  return total;
}

/** "1h", "90s", "250ms": the shortest spelling of a bound, for messages. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}
