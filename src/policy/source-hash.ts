import type { PolicySource } from "./parse.js";
import { sha256Hex } from "../http/text-hash.js";

/** SHA-256 (hex) over the sources sorted by name; file order and location do not change it. */
export async function sourcesHash(sources: readonly PolicySource[]): Promise<string> {
  const sorted = [...sources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return sha256Hex(sorted.map((s) => `${s.name}\u0000${s.text}\u0000`).join(""));
}
