import type { Random } from "../http/runtime-env.js";

/**
 * Weighted random choice over a fixed set, shaped like linkerd's distribution:
 * empty, a single target (no randomness needed), or cumulative weights searched per pick.
 */
export type WeightedChoice<T> =
  | { readonly kind: "empty" }
  | { readonly kind: "single"; readonly item: T }
  | { readonly kind: "weighted"; readonly items: readonly T[]; readonly cumulative: readonly number[]; readonly total: number };

/** Items with weight 0 are never chosen; all-zero collapses to empty. */
export function weightedChoice<T>(items: readonly T[], weightOf: (item: T) => number): WeightedChoice<T> {
  const live = items.filter((i) => weightOf(i) > 0);
  if (live.length === 0) return { kind: "empty" };
  if (live.length === 1) return { kind: "single", item: live[0]! };
  const cumulative: number[] = [];
  let total = 0;
  for (const item of live) {
    total += weightOf(item);
    cumulative.push(total);
  }
  return { kind: "weighted", items: live, cumulative, total };
}

export function pick<T>(choice: WeightedChoice<T>, random: Random): T | null {
  switch (choice.kind) {
    case "empty":
      return null;
    case "single":
      return choice.item;
    case "weighted": {
      const point = random() * choice.total;
      const { cumulative, items } = choice;
      // Few backends per rule: a linear scan beats binary search here.
      for (let i = 0; i < cumulative.length; i++) if (point < cumulative[i]!) return items[i]!;
      return items[items.length - 1]!;
    }
  }
}
