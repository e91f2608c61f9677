import { compileConditions } from "../identity/conditions.js";
import type { GatewayRequest } from "../http/exchange.js";
import type { Principal } from "../http/principal.js";
import type { CompiledLimitRule, CompiledRateLimit } from "./compiled.js";
import { gcraParams } from "./gcra.js";
import { addressKey } from "../http/cidr.js";
import type { PolicyIssue } from "../policy/issues.js";
import type { RateLimitPolicy, RateLimitRuleSpec } from "./rate-limit-policy.js";
import type { Located } from "../policy/located.js";
import { attachmentLookup, type AttachableRoute } from "../policy/attachment.js";

export type RateLimitLookup<R extends AttachableRoute = AttachableRoute> = (route: R, ruleName: string | undefined) => CompiledRateLimit | null;

export function compileRateLimits<R extends AttachableRoute>(policies: readonly Located<RateLimitPolicy>[], routes: readonly Located<R>[], issues: PolicyIssue[], gatewaysOf?: (route: R) => ReadonlySet<string> | null): RateLimitLookup<R> {
  const find = attachmentLookup("RateLimitPolicy", policies, routes, issues, { gatewayWide: true, ...(gatewaysOf ? { gatewaysOf } : {}) });
  const compiled = new Map<Located<RateLimitPolicy>, CompiledRateLimit>();
  for (const p of policies) compiled.set(p, compiledRateLimit(p.doc));
  return (route, ruleName) => {
    const chosen = find(route, ruleName);
    return chosen === null ? null : compiled.get(chosen)!;
  };
}

const compiledByDoc = new WeakMap<RateLimitPolicy, CompiledRateLimit>();

/**
 * compileRateLimitPolicy once per validated document: a reload hands an unchanged document back
 * as the same (immutable) object, and the compiled routes it reuses hold this compiled form
 * (which keeps no state: buckets live in the limiter store).
 */
export function compiledRateLimit(doc: RateLimitPolicy): CompiledRateLimit {
  let compiled = compiledByDoc.get(doc);
  if (compiled === undefined) compiledByDoc.set(doc, (compiled = compileRateLimitPolicy(doc)));
  return compiled;
}

/** One validated RateLimitPolicy into what the pipeline (or the Hono middleware) runs. */
export function compileRateLimitPolicy(doc: RateLimitPolicy): CompiledRateLimit {
  const spec = doc.spec;
  const name = `${doc.metadata.namespace}/${doc.metadata.name}`;
  return {
    name,
    store: spec.store,
    binding: spec.binding ?? null,
    failureMode: spec.failureMode,
    timeoutMs: spec.timeout,
    shadow: spec.shadow,
    responseHeaders: spec.responseHeaders,
    rules: spec.rules.map((r) => compileLimitRule(name, r)),
  };
}

function compileLimitRule(policy: string, r: RateLimitRuleSpec): CompiledLimitRule {
  const prefix = `${policy}/${r.name}/`;
  return {
    name: r.name,
    matches: compileConditions(r.match, false),
    key: keyFunction(prefix, r),
    keyKind: r.key === "header" ? `header:${r.keyHeader}` : r.key,
    params: gcraParams(r.limit.requests, r.limit.period, r.limit.burst, r.cost),
    requests: r.limit.requests,
    periodMs: r.limit.period,
    burst: r.limit.burst,
    stateHeaderPrefix: `"${r.name}";r=`,
    policyHeader: `"${r.name}";q=${r.limit.requests};w=${Math.max(1, Math.round(r.limit.period / 1000))}`,
  };
}

type KeyFn = (principal: Principal | null, req: GatewayRequest) => string | null;

function keyFunction(prefix: string, r: RateLimitRuleSpec): KeyFn {
  switch (r.key) {
    case "principal":
      return (p) => (p === null ? null : `${prefix}p:${p.id}`);
    case "consumer":
      return (p) => (p?.consumer ? `${prefix}c:${p.consumer.name}` : null);
    case "clientAddress": {
      const bits = r.ipv6Prefix;
      return (_, req) => (req.clientAddress === "" ? null : `${prefix}a:${addressKey(req.clientAddress, bits)}`);
    }
    case "header": {
      const name = r.keyHeader!;
      return (_, req) => {
        const v = req.headers.get(name);
        return v === undefined || v === "" ? null : `${prefix}h:${v.slice(0, 256)}`;
      };
    }
    case "shared":
      return () => `${prefix}shared`;
  }
}
