import type { HeaderList } from "../../http/header-list.js";

export interface HeaderModifierOptions {
  readonly set?: readonly { readonly name: string; readonly value: string }[];
  readonly add?: readonly { readonly name: string; readonly value: string }[];
  readonly remove?: readonly string[];
}

/**
 * Gateway API RequestHeaderModifier / ResponseHeaderModifier: remove, then set
 * (replacing every line of the name), then add (always a new line, never folded).
 */
export function headerModifier(options: HeaderModifierOptions): (headers: HeaderList) => void {
  const remove = new Set((options.remove ?? []).map((n) => n.toLowerCase()));
  const set = (options.set ?? []).map((h) => [h.name.toLowerCase(), h.name, h.value] as const);
  const add = (options.add ?? []).map((h) => [h.name, h.value] as const);
  return function modifyHeaders(headers) {
    if (remove.size > 0) headers.deleteAll(remove);
    for (const [lower, name, value] of set) {
      headers.delete(lower);
      headers.append(name, value);
    }
    for (const [name, value] of add) headers.append(name, value);
  };
}
