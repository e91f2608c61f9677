import type { PolicySource } from "./parse.js";

/** SHA-256 (hex) over the sources sorted by name; file order and location do not change it. */
export async function sourcesHash(sources: readonly PolicySource[]): Promise<string> {
  const sorted = [...sources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const text = sorted.map((s) => `${s.name}\u0000${s.text}\u0000`).join("");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
