import type { PolicySource } from "./parse.js";
import { sha256Hex } from "../http/text-hash.js";

/** SHA-256 (hex) over the sources sorted by name; file order and location do not change it. */
export async function sourcesHash(sources: readonly PolicySource[]): Promise<string> {
  const sorted = [...sources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // Parsed documents are marked so they never hash like a text that spells the same JSON.
  return sha256Hex(sorted.map((s) => ("documents" in s ? `${s.name}\u0000documents\u0000${JSON.stringify(s.documents)}\u0000` : `${s.name}\u0000${s.text}\u0000`)).join(""));
}
