import type { MiddlewareHandler } from "hono";
import type * as z from "./policy/zod.js";
import { compileRateLimitPolicy } from "./ratelimit/compile-rate-limit.js";
import { compileSecurityPolicy } from "./identity/compile-security.js";
import { formatPolicyIssue } from "./policy/issues.js";
import { rateLimitPolicySchema } from "./ratelimit/rate-limit-policy.js";
import { securityPolicySchema } from "./identity/security-policy.js";
import { GatewayError, errorBody, toGatewayError } from "./http/gateway-error.js";
import type { ApiKeyStore } from "./identity/api-keys.js";
import { JwksRegistry } from "./identity/jwks-registry.js";
import type { Principal } from "./http/principal.js";
import { SecurityStage } from "./identity/security-stage.js";
import { fromWebRequest } from "./http/web-exchange.js";
import { systemClock } from "./http/runtime-env.js";
import { applyRateLimit, limiterStores, type LimiterStores } from "./ratelimit/rate-limit-stage.js";

type SecuritySpecInput = Omit<z.input<typeof securityPolicySchema>["spec"], "targetRefs">;
type RateLimitSpecInput = Omit<z.input<typeof rateLimitPolicySchema>["spec"], "targetRefs">;

export interface MiddlewareOptions {
  /** Client address for source rules and per-address buckets (e.g. from hono/conninfo). */
  readonly clientAddress?: (request: Request) => string;
}

/** Hono variables the middleware sets: `c.get("principal")`. */
export interface MeshgateVariables {
  principal: Principal | null;
}

/**
 * A SecurityPolicy `spec` (without targetRefs) as Hono middleware: identity (JWT, API key, client
 * certificate) and authorization, with the gateway's error contract. Sets `c.var.principal`.
 *
 * @example
 * app.use("/api/*", securityPolicy({ jwt: { providers: [{ name: "idp", issuer, remoteJWKS: { uri } }] } }));
 */
export function securityPolicy(spec: SecuritySpecInput, options: MiddlewareOptions & { jwks?: JwksRegistry; apiKeyStore?: ApiKeyStore } = {}): MiddlewareHandler<{ Variables: MeshgateVariables }> {
  const doc = parseOrThrow(securityPolicySchema, "SecurityPolicy", spec);
  const stage = new SecurityStage(compileSecurityPolicy(doc), { jwks: options.jwks ?? new JwksRegistry(), apiKeyStore: options.apiKeyStore ?? null, now: Date.now });
  stage.prefetch();
  const clientAddress = options.clientAddress ?? (() => "");
  return async function meshgateSecurity(c, next) {
    const req = fromWebRequest(c.req.raw, { clientAddress: clientAddress(c.req.raw), startTime: 0 });
    try {
      const result = await stage.run(req, req.headers.get("x-forwarded-client-cert"));
      c.set("principal", result.principal);
    } catch (err) {
      return errorResponse(toGatewayError(err));
    }
    await next();
  };
}

/** `securityPolicy({ jwt })`: JWT identity alone. */
export function jwtIdentity(jwt: NonNullable<SecuritySpecInput["jwt"]>, options: MiddlewareOptions & { jwks?: JwksRegistry } = {}): MiddlewareHandler<{ Variables: MeshgateVariables }> {
  return securityPolicy({ jwt }, options);
}

/**
 * A RateLimitPolicy `spec` (without targetRefs) as Hono middleware, keyed on `c.var.principal`
 * when a security middleware ran first. Local buckets unless `stores.global` is given.
 */
export function rateLimit(spec: RateLimitSpecInput, options: MiddlewareOptions & { stores?: Partial<LimiterStores> } = {}): MiddlewareHandler<{ Variables: MeshgateVariables }> {
  const doc = parseOrThrow(rateLimitPolicySchema, "RateLimitPolicy", spec);
  const policy = compileRateLimitPolicy(doc);
  const stores = limiterStores(options.stores, systemClock);
  const clientAddress = options.clientAddress ?? (() => "");
  return async function meshgateRateLimit(c, next) {
    const req = fromWebRequest(c.req.raw, { clientAddress: clientAddress(c.req.raw), startTime: 0 });
    let headers: readonly (readonly [string, string])[] = [];
    try {
      const limited = applyRateLimit(policy, c.get("principal") ?? null, req, stores, systemClock);
      headers = (limited instanceof Promise ? await limited : limited)?.headers ?? [];
    } catch (err) {
      return errorResponse(toGatewayError(err));
    }
    await next();
    for (const [name, value] of headers) c.res.headers.append(name, value);
  };
}

function errorResponse(err: GatewayError): Response {
  const headers = new Headers({ "content-type": "application/json" });
  for (const [name, value] of err.headers ?? []) headers.append(name, value);
  return new Response(errorBody(err), { status: err.status, headers });
}

/** Validates a spec the way a policy file is validated; throws with every problem, one per line. */
function parseOrThrow<S extends z.ZodMiniType>(schema: S, kind: string, spec: object): z.output<S> {
  const result = schema.safeParse({ apiVersion: "meshgate.dev/v1alpha1", kind, metadata: { name: "middleware" }, spec: { ...spec, targetRefs: [{ name: "middleware" }] } });
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => formatPolicyIssue({ file: `${kind} middleware`, index: 0, severity: "error", path: i.path.map((p) => (typeof p === "symbol" ? String(p) : p)), message: i.message }));
  throw new Error(`invalid ${kind} spec:\n${lines.join("\n")}`);
}
