import type { Random } from "../http/runtime-env.js";

/** Exponential backoff with "equal jitter": half fixed, half random, capped at 10x the base. */
export function backoffDelay(baseMs: number, retry: number, random: Random): number {
  if (baseMs <= 0) return 0;
  const exp = Math.min(baseMs * 2 ** (retry - 1), baseMs * 10);
  return exp / 2 + (random() * exp) / 2;
}
