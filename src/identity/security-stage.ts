import type { CompiledSecurity } from "./compiled-security.js";
import type { GatewayRequest } from "../http/exchange.js";
import { GatewayError } from "../http/gateway-error.js";
import type { AuthorizationDecision } from "./authorization.js";
import { ApiKeyChecker, type ApiKeyStore } from "./api-keys.js";
import { API_KEY_HEADER, BEARER, credentialLocations, findCredential, withWellKnownParams, type FoundCredential } from "./credential.js";
import type { ExtractFrom } from "./security-policy.js";
import type { JwksRegistry } from "./jwks-registry.js";
import { JwtVerifier, claimValue } from "./jwt-verifier.js";
import { certificateIdentity, combinePrincipal } from "./principal.js";
import { type CertificateIdentity, type Principal } from "../http/principal.js";
import { parseXfcc } from "./xfcc.js";
import { headerSafeValue } from "../http/ext-value.js";

export interface SecurityDeps {
  readonly jwks: JwksRegistry;
  readonly apiKeyStore: ApiKeyStore | null;
  /** Wall-clock ms (token expiry). */
  readonly now: () => number;
}

export interface SecurityResult {
  readonly policy: string;
  readonly principal: Principal | null;
  readonly decision: AuthorizationDecision | null;
  /** True when the decision denied but the policy is in dry-run, so the request went on. */
  readonly dryRunDenied: boolean;
}

/** One SecurityPolicy, ready to run: identity (certificate, JWT, API key) → Principal → authorization. */
export class SecurityStage {
  private readonly jwt: JwtVerifier | null;
  private readonly apiKeys: ApiKeyChecker | null;
  /** Per provider: where it reads a token, and everywhere a token for it would be looked for when counting places. */
  private readonly jwtPlaces: readonly { readonly name: string; readonly from: ExtractFrom; readonly anywhere: ExtractFrom }[];
  private readonly keyPlaces: { readonly from: ExtractFrom; readonly anywhere: ExtractFrom } | null;
  /** Well-known credential parameters (access_token, api_key) this policy does not read: never forwarded. */
  private readonly unreadParams: readonly string[];

  constructor(
    private readonly security: CompiledSecurity,
    deps: SecurityDeps,
  ) {
    const { jwt, apiKey } = security.spec;
    this.jwt = jwt ? new JwtVerifier(jwt.providers, deps.jwks, deps.now) : null;
    this.apiKeys = apiKey ? new ApiKeyChecker(apiKey, deps.apiKeyStore, deps.now) : null;
    this.jwtPlaces = (jwt?.providers ?? []).map((p) => {
      const from = p.extractFrom ?? BEARER;
      return { name: p.name, from, anywhere: withWellKnownParams(from, ["access_token"]) };
    });
    const keyFrom = apiKey?.extractFrom ?? API_KEY_HEADER;
    this.keyPlaces = apiKey ? { from: keyFrom, anywhere: withWellKnownParams(keyFrom, ["api_key"]) } : null;
    const read = new Set([...this.jwtPlaces.flatMap((p) => p.from.params), ...(apiKey ? keyFrom.params : [])]);
    this.unreadParams = [...(jwt ? ["access_token"] : []), ...(apiKey ? ["api_key"] : [])].filter((name) => !read.has(name));
  }

  prefetch(): void {
    this.jwt?.prefetch();
  }

  /** `forwardedCert`: the x-forwarded-client-cert the request came with (already removed from it). */
  async run(req: GatewayRequest, forwardedCert: string | undefined): Promise<SecurityResult> {
    const spec = this.security.spec;
    const certificate = this.certificate(req, forwardedCert);

    let jwt: Principal["jwt"] = null;
    if (spec.jwt) {
      const token = this.token(req);
      if (token !== null) {
        token.remove();
        const verified = await this.jwt!.verify(token.value).catch((err: unknown) => {
          throw withChallenge(err, `Bearer realm="meshgate", error="invalid_token"`);
        });
        if (verified.provider.forwardToken) token.restore();
        for (const { claim, header } of verified.provider.claimToHeaders) {
          const value = claimValue(verified.claims, claim);
          if (value === undefined || value === null) req.headers.delete(header);
          else req.headers.set(header, headerSafeValue(typeof value === "string" ? value : JSON.stringify(value)));
        }
        jwt = { provider: verified.provider.name, issuer: verified.issuer, subject: verified.subject, claims: verified.claims };
      } else if (!spec.jwt.optional) {
        throw new GatewayError("jwt_missing", "this route requires a bearer token", [["www-authenticate", `Bearer realm="meshgate"`]]);
      }
    }

    let consumer: Principal["consumer"] = null;
    if (spec.apiKey) {
      const key = findCredential(req, this.keyPlaces!.from);
      if (key !== null) {
        onePlace(req, this.keyPlaces!.anywhere, "the API key");
        key.remove();
        const entry = await this.apiKeys!.check(key.value).catch((err: unknown) => {
          throw withChallenge(err, `ApiKey realm="meshgate"`);
        });
        if (spec.apiKey.forwardKey) key.restore();
        consumer = { name: entry.consumer, metadata: entry.metadata };
      } else if (!spec.apiKey.optional) {
        throw new GatewayError("api_key_missing", "this route requires an API key", [["www-authenticate", `ApiKey realm="meshgate"`]]);
      }
    }

    // A credential the gateway did not verify must not reach an upstream that might trust it
    // (an optional provider that reads headers only, with ?access_token=<anything>).
    if (this.unreadParams.length > 0) removeParams(req, this.unreadParams);

    const principal = combinePrincipal(jwt, consumer, certificate);
    const names = spec.upstreamHeaders;
    // Token subjects and consumer names are anyone's text: encoded when a header cannot carry them as is.
    if (principal !== null && names.principal !== null) req.headers.set(names.principal, headerSafeValue(principal.id));
    if (consumer !== null && names.consumer !== null) req.headers.set(names.consumer, headerSafeValue(consumer.name));
    if (certificate !== null && names.certificate !== null) req.headers.set(names.certificate, headerSafeValue(certificate.id));

    const decision = this.security.authorization?.decide(principal, req) ?? null;
    const denied = decision !== null && !decision.allowed;
    const result = { policy: this.security.name, principal, decision, dryRunDenied: denied && this.security.dryRun };
    if (denied && !this.security.dryRun) throw new AccessDenied(`${decision.reason} of SecurityPolicy ${this.security.name}`, result);
    return result;
  }

  /** The first configured location holding a token, across this policy's providers. */
  private token(req: GatewayRequest): FoundCredential | null {
    for (const p of this.jwtPlaces) {
      const found = findCredential(req, p.from);
      if (found === null) continue;
      onePlace(req, p.anywhere, `JWT provider ${p.name}`);
      return found;
    }
    return null;
  }

  private certificate(req: GatewayRequest, forwardedCert: string | undefined): CertificateIdentity | null {
    const required = this.security.spec.clientCertificate?.required ?? false;
    const peer = req.peerCertificate ?? null;
    if (peer !== null && peer.verified) return certificateIdentity(peer, "tls");
    const forwarded = this.security.forwardedCertificateFrom;
    // The connection's peer, not the X-Forwarded-For client: only the proxy itself can vouch for XFCC.
    if (forwarded !== null && forwarded.contains(req.peerAddress ?? req.clientAddress)) {
      const cert = parseXfcc(forwardedCert);
      if (cert !== null) return certificateIdentity(cert, "xfcc");
    }
    if (!required) return null;
    const challenge: [string, string][] = [["www-authenticate", `ClientCertificate realm="meshgate"`]];
    if (peer !== null) throw new GatewayError("client_certificate_invalid", `client certificate was not accepted: ${peer.error ?? "not verified"}`, challenge);
    throw new GatewayError("client_certificate_required", "this route requires a client certificate", challenge);
  }
}

function removeParams(req: GatewayRequest, names: readonly string[]): void {
  // The substring test keeps the common request (no such parameter) from parsing its query.
  if (!names.some((name) => req.query.includes(name))) return;
  const params = new URLSearchParams(req.query);
  let removed = false;
  for (const name of names) {
    if (!params.has(name)) continue;
    params.delete(name);
    removed = true;
  }
  if (!removed) return;
  const text = params.toString();
  req.query = text === "" ? "" : `?${text}`;
}

/** A credential in two places of one request is refused (400) before either is verified. */
function onePlace(req: GatewayRequest, anywhere: ExtractFrom, what: string): void {
  const places = credentialLocations(req, anywhere);
  if (places.length > 1) throw new GatewayError("multiple_credentials", `credentials for ${what} in ${places.length} places (${places.join(", ")}): send exactly one`);
}

/** A 403 from authorization, carrying who was refused and by which rule (for logs and metrics). */
export class AccessDenied extends GatewayError {
  constructor(
    message: string,
    readonly result: SecurityResult,
  ) {
    super("access_denied", message);
  }
}

/** 401s carry WWW-Authenticate (RFC 9110 §15.5.2); the error code says what was wrong. */
function withChallenge(err: unknown, challenge: string): unknown {
  if (!(err instanceof GatewayError) || err.status !== 401) return err;
  return new GatewayError(err.code, err.message, [["www-authenticate", `${challenge}, error_description="${err.code}"`]], { cause: err.cause });
}
