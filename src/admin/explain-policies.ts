import type { GatewayRequest } from "../http/exchange.js";
import { GatewayError } from "../http/gateway-error.js";
import { JwksRegistry } from "../identity/jwks-registry.js";
import type { Principal } from "../http/principal.js";
import { AccessDenied, SecurityStage, type SecurityDeps, type SecurityResult } from "../identity/security-stage.js";
import type { CompiledRule } from "../routing/compiled-rule.js";

/** Runs the rule's SecurityPolicy exactly as the gateway would, and reports identity and the decision. */
export async function explainSecurity(rule: CompiledRule, req: GatewayRequest, forwardedCert: string | undefined, deps: SecurityDeps | undefined): Promise<{ trail: Record<string, unknown>; principal: Principal | null; outcome?: Record<string, unknown> }> {
  const compiled = rule.security;
  if (compiled === null) return { principal: null, trail: { identity: "no SecurityPolicy applies: anonymous", authorization: "no SecurityPolicy applies: allowed" } };
  const spec = compiled.spec;
  const methods = [spec.clientCertificate ? `clientCertificate (${spec.clientCertificate.required ? "required" : "optional"})` : null, spec.jwt ? `jwt (${spec.jwt.providers.map((p) => p.name).join(", ")}${spec.jwt.optional ? ", optional" : ""})` : null, spec.apiKey ? `apiKey${spec.apiKey.optional ? " (optional)" : ""}` : null].filter((m) => m !== null);
  const stage = new SecurityStage(compiled, deps ?? { jwks: new JwksRegistry(), apiKeyStore: null, now: Date.now });
  const policy = { name: compiled.name, methods, authorizationRules: spec.authorization?.rules.map((r) => `${r.action} ${r.name}`) ?? [], dryRun: compiled.dryRun };
  const describe = (r: SecurityResult) => ({
    identity: { policy, principal: r.principal ? { id: r.principal.id, kind: r.principal.kind, consumer: r.principal.consumer?.name ?? null, certificate: r.principal.certificate?.id ?? null } : null },
    authorization: r.decision ? { allowed: r.decision.allowed, rule: r.decision.rule, reason: r.decision.reason, dryRun: compiled.dryRun } : "no authorization rules: allowed",
  });
  try {
    const result = await stage.run(req, forwardedCert);
    return { trail: describe(result), principal: result.principal };
  } catch (err) {
    if (err instanceof AccessDenied) return { trail: describe(err.result), principal: err.result.principal, outcome: { status: err.status, error: err.code, message: err.message } };
    if (err instanceof GatewayError) return { principal: null, trail: { identity: { policy, principal: null }, authorization: "not reached: identity failed" }, outcome: { status: err.status, error: err.code, message: err.message } };
    throw err;
  }
}

/** Which rate-limit rule and bucket the request would count against (nothing is taken from it). */
export function explainRateLimit(rule: CompiledRule, principal: Principal | null, req: GatewayRequest): Record<string, unknown> | string {
  const policy = rule.rateLimit;
  if (policy === null) return "no RateLimitPolicy applies";
  const facts = { policy: policy.name, store: policy.store, failureMode: policy.failureMode, shadow: policy.shadow };
  const skipped: string[] = [];
  for (const r of policy.rules) {
    if (!r.matches(principal, req)) {
      skipped.push(`${r.name}: match does not fit`);
      continue;
    }
    const key = r.key(principal, req);
    if (key === null) {
      skipped.push(`${r.name}: request has no ${r.keyKind} to key on`);
      continue;
    }
    return { ...facts, rule: r.name, keyKind: r.keyKind, bucket: key, limit: { requests: r.requests, periodMs: r.periodMs, burst: r.burst, cost: r.params.cost }, skipped };
  }
  return { ...facts, rule: null, result: "no rule applies: not limited", skipped };
}
