import type { RequestBody } from "../http/exchange.js";
import { bodyTooLarge } from "../http/gateway-error.js";

/** The listener's default request body limit: 10 MiB (`serve --max-body-size`, Workers `MESHGATE_MAX_BODY_SIZE`). */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * Applies a body limit (`limit` bytes; 0 = none) before anything forwards the body: a declared
 * Content-Length above it answers 413 at once, before any upstream is called; a body of unknown
 * length (chunked) is wrapped so the stream fails with 413 as soon as it grows past the limit.
 */
export function limitBody(body: RequestBody | null, limit: number): RequestBody | null {
  if (body === null || limit <= 0) return body;
  if (body.length !== null) {
    if (body.length > limit) throw bodyTooLarge(limit);
    return body; // the runtime's HTTP parser holds the client to its Content-Length
  }
  return body.capped ? body.capped(limit) : body;
}

/** Parses `10Mi`, `512Ki`, `1Gi`, `10MB`, `1048576` (bytes), `0` (no limit). */
export function parseByteSize(text: string): number {
  const m = /^([0-9]+)(Ki|Mi|Gi|KB|MB|GB|K|M|G)?$/.exec(text.trim());
  if (m === null) throw new Error(`invalid size "${text}" (e.g. 10Mi, 512Ki, 1048576)`);
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, KB: 1000, MB: 1000 ** 2, GB: 1000 ** 3, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2] ?? ""] ?? 1;
  const n = Number(m[1]) * unit;
  if (!Number.isSafeInteger(n)) throw new Error(`size "${text}" is too large`);
  return n;
}
