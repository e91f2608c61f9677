import type { HeaderList } from "./header-list.js";

/** Protocols a client may switch an HTTP/1.1 connection to through the gateway. */
export type UpgradeProtocol = "websocket";

/** Sec-WebSocket-Key: base64 of 16 random bytes (RFC 6455 section 4.1). */
const WEBSOCKET_KEY = /^[A-Za-z0-9+/]{22}==$/;
const VERSION = /^\d{1,3}$/;

function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  for (const part of value.split(",")) if (part.trim().toLowerCase() === token) return true;
  return false;
}

/**
 * Is this a WebSocket opening handshake the gateway may pass on (RFC 6455 section 4.2.1): a GET
 * without a body, with `Connection: upgrade`, `Upgrade: websocket`, a well-formed
 * `Sec-WebSocket-Key` and a `Sec-WebSocket-Version`? Only then do Upgrade and Connection survive hop-by-hop stripping;
 * anything else (another protocol, a POST, a missing key) is forwarded as a plain request
 * without them, so no upstream is ever switched to a protocol the gateway does not relay.
 * The version itself is the upstream's to accept or refuse (426 with the versions it speaks).
 */
export function isWebSocketUpgrade(method: string, headers: HeaderList): boolean {
  if (!hasToken(headers.getJoined("connection"), "upgrade")) return false;
  return isWebSocketHandshake(method, headers);
}

/**
 * The same without the Connection header, for platforms that take hop-by-hop headers off the
 * requests they hand over (Workers) and have already recognised the upgrade themselves.
 */
export function isWebSocketHandshake(method: string, headers: HeaderList): boolean {
  if (method !== "GET") return false;
  // A body would be read by the upstream out of the tunnel's first bytes: not a handshake.
  const length = headers.get("content-length");
  if ((length !== undefined && length.trim() !== "0") || headers.has("transfer-encoding")) return false;
  const upgrade = headers.getAll("upgrade");
  if (upgrade.length !== 1 || upgrade[0]!.trim().toLowerCase() !== "websocket") return false;
  const keys = headers.getAll("sec-websocket-key");
  if (keys.length !== 1 || !WEBSOCKET_KEY.test(keys[0]!.trim())) return false;
  const versions = headers.getAll("sec-websocket-version");
  return versions.length === 1 && VERSION.test(versions[0]!.trim());
}

/** Puts back the two headers that make an upstream switch protocols, after hop-by-hop stripping removed them. */
export function restoreUpgradeHeaders(headers: HeaderList, protocol: UpgradeProtocol): void {
  headers.set("connection", "upgrade");
  headers.set("upgrade", protocol);
}
