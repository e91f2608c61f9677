const DIGITS = new TextEncoder().encode("0123456789abcdef");

// Trace, span and request ids come from a pool of random bytes refilled 4 KiB at a time and
// turned into one hex string per refill: one getRandomValues call and one decode per ~100
// requests, and each id is a slice of that string instead of a chain of per-byte concatenations
// (allocation was the cost once the getRandomValues calls were gone).
const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
const chars = new Uint8Array(POOL_SIZE * 2);
const ascii = new TextDecoder();
let hex = "";
let offset = POOL_SIZE;

function refill(): void {
  crypto.getRandomValues(pool);
  for (let i = 0; i < POOL_SIZE; i++) {
    const b = pool[i]!;
    chars[2 * i] = DIGITS[b >> 4]!;
    chars[2 * i + 1] = DIGITS[b & 15]!;
  }
  hex = ascii.decode(chars);
  offset = 0;
}

/** `bytes` random bytes as lower-case hex (at most 4096 bytes). */
export function randomHex(bytes: number): string {
  if (offset + bytes > POOL_SIZE) refill();
  const out = hex.slice(offset * 2, (offset + bytes) * 2);
  offset += bytes;
  return out;
}

const VARIANT = "89ab";

/** A random (version 4) UUID, as crypto.randomUUID spells it, from the same pool. */
export function randomUuid(): string {
  const h = randomHex(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${VARIANT[parseInt(h[16]!, 16) & 3]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
