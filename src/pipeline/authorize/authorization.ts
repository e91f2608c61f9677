import type { AuthorizationRuleSpec } from "../../policy/schema/index.js";
import type { GatewayRequest } from "../exchange.js";
import { CidrSet } from "../hygiene/cidr.js";
import type { Principal } from "../identity/principal.js";
import { claimValue } from "../identity/jwt-verifier.js";

export interface AuthorizationDecision {
  readonly allowed: boolean;
  /** The rule that decided, or null when the default did (no ALLOW rule matched / no rules). */
  readonly rule: string | null;
  readonly reason: string;
}

type Condition = (principal: Principal | null, req: GatewayRequest) => boolean;

interface CompiledAuthzRule {
  readonly name: string;
  readonly action: "ALLOW" | "DENY";
  readonly matches: Condition;
}

/**
 * DENY rules first (any match denies), then ALLOW rules (when any exist, one must match).
 * DENY compares paths case-insensitively and ALLOW case-sensitively, so a case game against
 * a case-insensitive upstream can neither dodge a deny nor widen an allow.
 */
export class Authorization {
  private readonly deny: CompiledAuthzRule[];
  private readonly allow: CompiledAuthzRule[];

  constructor(rules: readonly AuthorizationRuleSpec[]) {
    this.deny = rules.filter((r) => r.action === "DENY").map((r) => compileRule(r, true));
    this.allow = rules.filter((r) => r.action === "ALLOW").map((r) => compileRule(r, false));
  }

  decide(principal: Principal | null, req: GatewayRequest): AuthorizationDecision {
    for (const rule of this.deny) if (rule.matches(principal, req)) return { allowed: false, rule: rule.name, reason: `denied by rule ${rule.name}` };
    if (this.allow.length === 0) return { allowed: true, rule: null, reason: "no ALLOW rules: allowed by default" };
    for (const rule of this.allow) if (rule.matches(principal, req)) return { allowed: true, rule: rule.name, reason: `allowed by rule ${rule.name}` };
    return { allowed: false, rule: null, reason: "no ALLOW rule matched" };
  }
}

function compileRule(spec: AuthorizationRuleSpec, foldCase: boolean): CompiledAuthzRule {
  const conditions: Condition[] = [];
  if (spec.authenticated !== undefined) {
    const want = spec.authenticated;
    conditions.push((p) => (p !== null) === want);
  }
  if (spec.principals) {
    const patterns = spec.principals.map(globPattern);
    conditions.push((p) => p !== null && principalIds(p).some((id) => patterns.some((re) => re.test(id))));
  }
  if (spec.consumers) {
    const names = new Set(spec.consumers);
    conditions.push((p) => p?.consumer != null && names.has(p.consumer.name));
  }
  if (spec.claims) {
    const claims = spec.claims;
    conditions.push((p) => p?.jwt != null && claims.every((c) => claimHolds(p.jwt!.claims, c.name, c.values)));
  }
  if (spec.sourceCIDRs) {
    const cidrs = new CidrSet(spec.sourceCIDRs);
    conditions.push((_, req) => cidrs.contains(req.clientAddress));
  }
  if (spec.methods) {
    const methods = new Set(spec.methods);
    conditions.push((_, req) => methods.has(req.method));
  }
  if (spec.paths) {
    const matchers = spec.paths.map((p) => pathMatcher(p, foldCase));
    conditions.push((_, req) => {
      const path = foldCase ? req.path.toLowerCase() : req.path;
      return matchers.some((m) => m(path));
    });
  }
  if (spec.hosts) {
    const hosts = spec.hosts.map(globPattern);
    conditions.push((_, req) => hosts.some((re) => re.test(req.host)));
  }
  if (spec.headers) {
    const headers = spec.headers;
    conditions.push((_, req) => headers.every((h) => req.headers.getAll(h.name).some((v) => h.values.includes(v))));
  }
  return { name: spec.name, action: spec.action, matches: (p, req) => conditions.every((c) => c(p, req)) };
}

/** Every identity a principal carries: a rule on a SPIFFE ID matches even when a JWT is the primary id. */
function principalIds(p: Principal): string[] {
  const ids = [p.id];
  if (p.consumer && p.consumer.name !== p.id) ids.push(p.consumer.name);
  if (p.certificate && p.certificate.id !== p.id) ids.push(p.certificate.id);
  return ids;
}

function claimHolds(claims: Readonly<Record<string, unknown>>, name: string, values: readonly string[]): boolean {
  const value = claimValue(claims, name);
  const held = Array.isArray(value) ? value.map(String) : typeof value === "string" ? value.split(" ") : value === undefined || value === null ? [] : [String(value)];
  return held.some((v) => values.includes(v));
}

/** `/admin` exact; `/admin/*` the prefix /admin/ and /admin itself; `*` everything. */
function pathMatcher(pattern: string, foldCase: boolean): (path: string) => boolean {
  const p = foldCase ? pattern.toLowerCase() : pattern;
  if (p === "/*" || p === "*") return () => true;
  if (p.endsWith("/*")) {
    const base = p.slice(0, -2);
    return (path) => path === base || path.startsWith(`${base}/`);
  }
  return (path) => path === p;
}

function globPattern(glob: string): RegExp {
  return new RegExp(`^${glob.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}
