import type { AuthorizationRuleSpec } from "./security-policy.js";
import type { GatewayRequest } from "../http/exchange.js";
import type { Principal } from "../http/principal.js";
import { compileConditions, type Condition } from "./conditions.js";

export interface AuthorizationDecision {
  readonly allowed: boolean;
  /** The rule that decided, or null when the default did (no ALLOW rule matched / no rules). */
  readonly rule: string | null;
  readonly reason: string;
}

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
  return { name: spec.name, action: spec.action, matches: compileConditions(spec, foldCase) };
}

