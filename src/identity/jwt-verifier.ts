import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, createLocalJWKSet, importSPKI, base64url, type JWTPayload, type JWSHeaderParameters } from "jose";
import type { JwtProviderSpec } from "./security-policy.js";
import { GatewayError, type GatewayErrorCode } from "../http/gateway-error.js";
import type { JwksRegistry, JwksSource, KeyResolver } from "./jwks-registry.js";

export interface VerifiedJwt {
  readonly provider: JwtProviderSpec;
  readonly issuer: string;
  readonly subject: string;
  readonly claims: Readonly<JWTPayload>;
}

const MAX_CACHED = 10_000;
/** A verified token is trusted without re-verifying for at most this long (and never past exp). */
const MAX_CACHE_MS = 300_000;
const SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * Verifies tokens for one SecurityPolicy's providers. The provider is chosen by the token's
 * `iss`, so several issuers can share a route. Verified tokens are cached until they expire.
 */
export class JwtVerifier {
  private readonly keySources = new Map<JwtProviderSpec, JwksSource | KeyResolver>();
  private readonly allowedAlgorithms: ReadonlySet<string>;
  private readonly byIssuer: ReadonlyMap<string, JwtProviderSpec>;
  /** The largest token any provider accepts: longer ones are refused before any parsing. */
  private readonly maxTokenBytes: number;
  /** `generation`: of the remote key set the token was verified with (0 for local keys, which only change with the snapshot). */
  private readonly verified = new Map<string, { readonly jwt: VerifiedJwt; readonly until: number; readonly generation: number }>();

  constructor(
    providers: readonly JwtProviderSpec[],
    registry: JwksRegistry,
    private readonly now: () => number = Date.now,
  ) {
    for (const p of providers) {
      if (p.remoteJWKS) {
        const uri = p.remoteJWKS.uri;
        this.keySources.set(p, registry.source({ ...p.remoteJWKS, uri: uri ?? `${p.issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`, discovery: uri === undefined }));
      }
      else if (p.localJWKS) this.keySources.set(p, createLocalJWKSet({ keys: p.localJWKS.keys }));
      else this.keySources.set(p, localKeyResolver(p.localKeys!));
    }
    this.allowedAlgorithms = new Set(providers.flatMap((p) => p.algorithms));
    this.byIssuer = new Map(providers.map((p) => [p.issuer, p] as const));
    this.maxTokenBytes = Math.max(...providers.map((p) => p.maxTokenBytes));
  }

  /** Starts fetching remote key sets so the first request does not wait for them. */
  prefetch(): void {
    for (const source of this.keySources.values()) if (typeof source !== "function") source.prefetch();
  }

  async verify(token: string): Promise<VerifiedJwt> {
    const cached = this.verified.get(token);
    if (cached !== undefined) {
      const source = this.keySources.get(cached.jwt.provider)!;
      // A busy token must still see its key set refreshed; once the set changed, verify it again
      // (one signature check per token per change), so a key taken out fails the tokens it signed.
      if (typeof source !== "function") source.refreshIfStale();
      if (this.now() < cached.until && (typeof source === "function" || source.generation === cached.generation)) return cached.jwt;
      this.verified.delete(token);
    }
    const { provider, alg } = this.precheck(token);
    const source = this.keySources.get(provider)!;
    let keys = typeof source === "function" ? source : await source.current();
    // The generation the keys in hand belong to, read before any await can swap them.
    let generation = typeof source === "function" ? 0 : source.generation;
    if (keys === null) throw new GatewayError("jwks_unavailable", `keys of JWT provider ${provider.name} could not be fetched yet`);
    const options = {
      issuer: provider.issuer,
      algorithms: provider.algorithms,
      clockTolerance: Math.floor(provider.clockSkew / 1000),
      currentDate: new Date(this.now()),
      // exp is required unless the provider says otherwise: a token that never expires is a key that is never revoked.
      ...(provider.allowMissingExpiration ? {} : { requiredClaims: ["exp"] }),
      ...(provider.audiences.length > 0 ? { audience: provider.audiences } : {}),
    };
    let payload: JWTPayload;
    try {
      payload = (await jwtVerify(token, keys, options)).payload;
    } catch (err) {
      const refetched = err instanceof errors.JWKSNoMatchingKey && typeof source !== "function" ? await source.refetchForUnknownKid() : null;
      if (refetched === null) throw joseError(err, provider, alg);
      keys = refetched;
      generation = (source as JwksSource).generation;
      try {
        payload = (await jwtVerify(token, keys, options)).payload;
      } catch (again) {
        throw joseError(again, provider, alg);
      }
    }
    checkRequiredClaims(payload, provider);
    const jwt: VerifiedJwt = { provider, issuer: provider.issuer, subject: typeof payload.sub === "string" ? payload.sub : "", claims: payload };
    this.remember(token, jwt, payload, generation);
    return jwt;
  }

  /** Cheap checks before any signature work: size, shape, algorithm, issuer. */
  private precheck(token: string): { provider: JwtProviderSpec; alg: string } {
    if (token.length > this.maxTokenBytes) throw new GatewayError("jwt_too_large", `token is ${token.length} bytes, over the ${this.maxTokenBytes}-byte limit`);
    const parts = token.split(".");
    if (parts.length !== 3 || !parts.every((p, i) => SEGMENT.test(p) || (i === 2 && p === ""))) throw new GatewayError("jwt_malformed", "token is not three base64url segments (header.payload.signature)");
    let alg: string;
    let iss: unknown;
    try {
      alg = String(decodeProtectedHeader(token).alg);
      iss = decodeJwt(token).iss;
    } catch {
      throw new GatewayError("jwt_malformed", "token header or payload is not valid base64url JSON");
    }
    if (!this.allowedAlgorithms.has(alg)) throw new GatewayError("jwt_alg_not_allowed", `token algorithm ${alg} is not accepted (allowed: ${[...this.allowedAlgorithms].join(", ")})`);
    const provider = typeof iss === "string" ? this.byIssuer.get(iss) : undefined;
    if (provider === undefined) throw new GatewayError("jwt_bad_issuer", `token issuer ${typeof iss === "string" ? JSON.stringify(iss.slice(0, 200)) : "(none)"} is not accepted here`);
    if (token.length > provider.maxTokenBytes) throw new GatewayError("jwt_too_large", `token is ${token.length} bytes, over provider ${provider.name}'s ${provider.maxTokenBytes}-byte limit`);
    if (!provider.algorithms.includes(alg as JwtProviderSpec["algorithms"][number])) throw new GatewayError("jwt_alg_not_allowed", `provider ${provider.name} does not accept ${alg}`);
    return { provider, alg };
  }

  private remember(token: string, jwt: VerifiedJwt, payload: JWTPayload, generation: number): void {
    const now = this.now();
    const until = Math.min(now + MAX_CACHE_MS, typeof payload.exp === "number" ? payload.exp * 1000 : Infinity);
    // A token not yet valid without skew is not cached, so nbf keeps being checked.
    if (typeof payload.nbf === "number" && payload.nbf * 1000 > now) return;
    if (this.verified.size >= MAX_CACHED) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { jwt, until, generation });
  }
}

function checkRequiredClaims(payload: JWTPayload, provider: JwtProviderSpec): void {
  for (const required of provider.requiredClaims) {
    const value = claimValue(payload, required.name);
    const wanted = required.values;
    if (wanted === undefined) {
      if (value === undefined || value === null) throw new GatewayError("jwt_claim_mismatch", `claim ${required.name} is required`);
      continue;
    }
    const values = Array.isArray(value) ? value.map(String) : typeof value === "string" ? value.split(" ") : value === undefined ? [] : [String(value)];
    if (!values.some((v) => wanted.includes(v))) throw new GatewayError("jwt_claim_mismatch", `claim ${required.name} does not hold any of the required values`);
  }
}

/** Reads `a.b.c` paths into nested claims. */
export function claimValue(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  if (path in claims) return claims[path];
  let value: unknown = claims;
  for (const key of path.split(".")) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function joseError(err: unknown, provider: JwtProviderSpec, alg: string): GatewayError {
  const fail = (code: GatewayErrorCode, message: string) => new GatewayError(code, message, undefined, { cause: err });
  if (err instanceof GatewayError) return err;
  if (err instanceof errors.JWTExpired) return fail("jwt_expired", "token has expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "exp" && err.reason === "missing") return fail("jwt_exp_missing", "token has no exp claim (the provider requires one; allowMissingExpiration: true accepts such tokens)");
    if (err.claim === "nbf" || err.claim === "iat") return fail("jwt_not_yet_valid", `token is not valid yet (${err.claim})`);
    if (err.claim === "iss") return fail("jwt_bad_issuer", `token issuer is not ${provider.issuer}`);
    if (err.claim === "aud") return fail("jwt_bad_audience", `token audience is not one of ${provider.audiences.join(", ")}`);
    return fail("jwt_invalid", `token claim ${err.claim} is invalid: ${err.reason}`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return fail("jwt_bad_signature", "token signature does not verify");
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return fail("jwt_unknown_kid", `no key of provider ${provider.name} matches the token's kid and ${alg}`);
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return fail("jwt_alg_not_allowed", `token algorithm ${alg} is not accepted`);
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return fail("jwt_malformed", "token is malformed");
  // Key import problems (a bad key in the set) land here: this token fails, other keys keep working.
  return fail("jwt_invalid", "token could not be verified");
}

type LocalKeySpec = NonNullable<JwtProviderSpec["localKeys"]>[number];

/**
 * PEM public keys and shared secrets as a key resolver: the token's `kid` (when it has one) and
 * `alg` pick the key. Keys are imported once, on first use.
 */
function localKeyResolver(specs: readonly LocalKeySpec[]): KeyResolver {
  let imported: Promise<{ kid: string | undefined; alg: string; key: CryptoKey | Uint8Array }[]> | null = null;
  const load = () =>
    (imported ??= Promise.all(specs.map(async (k) => ({ kid: k.kid, alg: k.alg, key: k.secret !== undefined ? base64url.decode(k.secret) : await importSPKI(k.pem!, k.alg) }))));
  return (async (header: JWSHeaderParameters) => {
    const keys = await load();
    const candidates = keys.filter((k) => k.alg === header.alg && (header.kid === undefined || k.kid === undefined || k.kid === header.kid));
    if (candidates.length === 0) throw new errors.JWKSNoMatchingKey();
    return candidates[0]!.key;
  }) as unknown as KeyResolver;
}
