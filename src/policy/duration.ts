import * as z from "./zod.js";
import { DURATION, MAX_DURATION_MS, formatDuration, parseDuration } from "./duration-text.js";

export { MAX_DURATION_MS, formatDuration, parseDuration } from "./duration-text.js";

/** Validates a Gateway API Duration string and yields milliseconds (at most ~24.8 days: a timer's limit). */
export const durationSchema = durationAtMost(MAX_DURATION_MS);

/**
 * A duration with an upper bound: a value that can never be meant (a 30-day request timeout, a
 * clock skew that keeps expired tokens alive for a week) is refused at validation.
 */
export function durationAtMost(maxMs: number) {
  const bound = maxMs === MAX_DURATION_MS ? "596h31m23s647ms (the longest timer a JavaScript runtime keeps)" : formatDuration(maxMs);
  return z.pipe(z.string().check(z.regex(DURATION, { message: 'expected a Gateway API duration such as "500ms", "10s" or "1h30m"' })), z.transform(parseDuration)).check(z.refine((ms) => ms <= maxMs, { message: `must be at most ${bound}` }));
}
