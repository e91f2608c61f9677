/** What a redacted credential reads as in logs and explain output. */
export const REDACTED = "REDACTED";

/** Query parameters that carry credentials whatever the policies say (RFC 6750 `access_token`, common API-key names). */
export const DEFAULT_CREDENTIAL_PARAMS: readonly string[] = ["access_token", "api_key", "token"];
/** Headers that carry credentials whatever the policies say. */
export const DEFAULT_CREDENTIAL_HEADERS: readonly string[] = ["authorization", "proxy-authorization", "cookie", "x-api-key"];

/** Names to redact, compared case-insensitively; built once per snapshot. */
export interface CredentialNames {
  readonly params: ReadonlySet<string>;
  readonly headers: ReadonlySet<string>;
}

/**
 * `?a=1&access_token=eyJ…` → `?a=1&access_token=REDACTED`: the value of every parameter named in
 * `params` (lower-case names; percent-encoded names are decoded first). Everything else is kept
 * byte for byte, so the log still shows what the client sent.
 */
export function redactQuery(query: string, params: ReadonlySet<string>): string {
  if (query.length <= 1) return query;
  let changed = false;
  const parts = query.slice(1).split("&");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const eq = part.indexOf("=");
    const rawName = eq === -1 ? part : part.slice(0, eq);
    if (params.has(decodeName(rawName))) {
      parts[i] = `${rawName}=${REDACTED}`;
      changed = true;
    }
  }
  return changed ? `?${parts.join("&")}` : query;
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, " ")).toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}
