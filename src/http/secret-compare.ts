const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/**
 * Checks `Authorization: Bearer <token>` against a secret in constant time: both sides are
 * hashed to 32 bytes first (so neither length nor a common prefix shows in the timing), then
 * every byte is compared. Web Crypto only: the same code runs on Node and Workers.
 */
export function bearerChecker(secret: string): (authorization: string | null | undefined) => Promise<boolean> {
  const expected = digest(secret);
  return async function checkBearer(authorization) {
    const given = authorization ?? "";
    const token = given.startsWith("Bearer ") ? given.slice(7) : "";
    const [a, b] = await Promise.all([digest(token), expected]);
    let diff = token === "" ? 1 : 0;
    for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
    return diff === 0;
  };
}

/** Two secrets are equal, in time that depends on neither their content nor their length. */
export async function secretsEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(given), digest(expected)]);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
