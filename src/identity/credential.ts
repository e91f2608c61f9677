import type { ExtractFrom } from "./security-policy.js";
import type { GatewayRequest } from "../http/exchange.js";

/** A credential found in a request, and how to take it out before the request goes upstream. */
export interface FoundCredential {
  readonly value: string;
  /** Takes the credential out of the request (before verification, so a rejected one is never logged). */
  readonly remove: () => void;
  /** Puts it back as it came (the policy forwards it upstream). */
  readonly restore: () => void;
}

/** Looks in the configured headers, cookies and query params, in that order; first hit wins. */
export function findCredential(req: GatewayRequest, from: ExtractFrom): FoundCredential | null {
  for (const h of from.headers) {
    const raw = req.headers.get(h.name);
    if (raw === undefined) continue;
    const header = { remove: () => req.headers.delete(h.name), restore: () => req.headers.set(h.name, raw) };
    if (h.valuePrefix === "") return { value: raw.trim(), ...header };
    // Schemes are case-insensitive (RFC 9110 §11.1): "bearer x" is a bearer token too.
    if (raw.length > h.valuePrefix.length && raw.slice(0, h.valuePrefix.length).toLowerCase() === h.valuePrefix.toLowerCase()) {
      return { value: raw.slice(h.valuePrefix.length).trim(), ...header };
    }
  }
  if (from.cookies.length > 0) {
    const cookie = req.headers.getJoined("cookie");
    if (cookie !== undefined) {
      const pairs = cookie.split(";").map((p) => p.trim());
      for (const name of from.cookies) {
        const pair = pairs.find((p) => p.startsWith(`${name}=`));
        if (pair === undefined) continue;
        return {
          value: pair.slice(name.length + 1),
          remove: () => {
            const rest = pairs.filter((p) => p !== pair && p !== "");
            if (rest.length === 0) req.headers.delete("cookie");
            else req.headers.set("cookie", rest.join("; "));
          },
          restore: () => req.headers.set("cookie", cookie),
        };
      }
    }
  }
  if (from.params.length > 0 && req.query.length > 1) {
    const original = req.query;
    const params = new URLSearchParams(req.query);
    for (const name of from.params) {
      const value = params.get(name);
      if (value === null) continue;
      return {
        value,
        remove: () => {
          params.delete(name);
          const text = params.toString();
          req.query = text === "" ? "" : `?${text}`;
        },
        restore: () => {
          req.query = original;
        },
      };
    }
  }
  return null;
}

/**
 * Every place in `from` that holds a value in this request, described for an error message
 * ("header authorization", "cookie session", "query parameter access_token"). A credential sent
 * in two places is ambiguous (RFC 6750 §2: a client MUST NOT use more than one method): which
 * one was verified, and which one does the upstream read?
 */
export function credentialLocations(req: GatewayRequest, from: ExtractFrom): string[] {
  const out: string[] = [];
  for (const h of from.headers) {
    const raw = req.headers.get(h.name);
    if (raw !== undefined && (h.valuePrefix === "" || raw.slice(0, h.valuePrefix.length).toLowerCase() === h.valuePrefix.toLowerCase())) out.push(`header ${h.name}`);
  }
  if (from.cookies.length > 0) {
    const cookie = req.headers.getJoined("cookie");
    if (cookie !== undefined) {
      const names = new Set(cookie.split(";").map((p) => p.trim().split("=", 1)[0]!));
      for (const name of from.cookies) if (names.has(name)) out.push(`cookie ${name}`);
    }
  }
  // The substring test keeps the common request (no such parameter) from parsing its query.
  const params = from.params.filter((name) => req.query.includes(name));
  if (params.length > 0) {
    const query = new URLSearchParams(req.query);
    for (const name of params) if (query.has(name)) out.push(`query parameter ${name}`);
  }
  return out;
}

/** `from` plus query parameters a client may put a credential in whatever the policy reads (RFC 6750's access_token). */
export function withWellKnownParams(from: ExtractFrom, params: readonly string[]): ExtractFrom {
  return { ...from, params: [...from.params, ...params.filter((p) => !from.params.includes(p))] };
}

export const BEARER: ExtractFrom = { headers: [{ name: "authorization", valuePrefix: "Bearer " }], cookies: [], params: [] };
export const API_KEY_HEADER: ExtractFrom = { headers: [{ name: "x-api-key", valuePrefix: "" }], cookies: [], params: [] };
