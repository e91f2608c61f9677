import { describe, expect, it } from "vitest";
import { randomHex, randomUuid } from "./random-hex.js";

describe("random ids", () => {
  it("are hex of the asked length, distinct across pool refills", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = randomHex(i % 2 === 0 ? 16 : 8);
      expect(id).toMatch(i % 2 === 0 ? /^[0-9a-f]{32}$/ : /^[0-9a-f]{16}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(2000);
  });

  it("spell version 4 UUIDs as crypto.randomUUID does, every variant nibble included", () => {
    const variants = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = randomUuid();
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      variants.add(id[19]!);
    }
    expect([...variants].sort()).toEqual(["8", "9", "a", "b"]);
  });
});
