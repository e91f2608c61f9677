import type { CompiledBackendRef, SessionPersistencePolicy } from "./compiled-rule.js";
import type { GatewayRequest } from "../http/exchange.js";
import { cookieValue } from "../http/cookies.js";

/**
 * Gateway API `sessionPersistence`: the first answer carries a token (cookie or header) naming the
 * backendRef that served it; requests that bring it back go to the same backendRef while it still
 * has weight. Tokens are `<ref fingerprint>.<issued at, s>`; stickiness, not security, so unsigned.
 */
export function persistedRef(policy: SessionPersistencePolicy, req: GatewayRequest, nowSeconds: number): { ref: CompiledBackendRef; issuedAt: number } | null {
  const token = policy.type === "Header" ? req.headers.get(policy.name) : cookieValue(req.headers.getJoined("cookie"), policy.name);
  if (token === undefined) return null;
  const dot = token.indexOf(".");
  const ref = policy.refs.get(dot === -1 ? token : token.slice(0, dot));
  if (ref === undefined || ref.weight === 0 || ref.backend === null) return null;
  const issuedAt = dot === -1 ? nowSeconds : Number(token.slice(dot + 1));
  if (!Number.isFinite(issuedAt)) return null;
  if (policy.absoluteTimeoutSeconds !== null && nowSeconds - issuedAt > policy.absoluteTimeoutSeconds) return null;
  return { ref, issuedAt };
}

/** The response header that hands the session its token (again, when an idle timeout slides). */
export function sessionHeader(policy: SessionPersistencePolicy, ref: CompiledBackendRef, issuedAt: number): [string, string] {
  const token = `${policy.fingerprints.get(ref)!}.${issuedAt}`;
  if (policy.type === "Header") return [policy.name, token];
  const maxAge = policy.idleTimeoutSeconds ?? (policy.permanent ? policy.absoluteTimeoutSeconds : null);
  return ["set-cookie", `${policy.name}=${token}; Path=/; HttpOnly; SameSite=Lax${maxAge !== null ? `; Max-Age=${maxAge}` : ""}`];
}
