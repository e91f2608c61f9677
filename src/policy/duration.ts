import { z } from "zod";

const DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;

/** Gateway API Duration ("1h30m", "500ms", "0s") to milliseconds; throws on bad input. */
export function parseDuration(text: string): number {
  if (!DURATION.test(text)) throw new Error(`invalid duration "${text}"`);
  let total = 0;
  for (const [, n, unit] of text.matchAll(/([0-9]+)(ms|h|m|s)/g)) total += Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
  return total;
}

/** Validates a Gateway API Duration string and yields milliseconds. */
export const durationSchema = z
  .string()
  .regex(DURATION, { message: 'expected a Gateway API duration such as "500ms", "10s" or "1h30m"' })
  .transform(parseDuration);
