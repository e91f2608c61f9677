import type { GatewayRequest } from "../http/exchange.js";
import { CidrSet } from "../http/cidr.js";
import type { Principal } from "../http/principal.js";
import { claimValue } from "./jwt-verifier.js";
import { compileGlob, type SafeRegex } from "../policy/safe-regex.js";

export type Condition = (principal: Principal | null, req: GatewayRequest) => boolean;

/** The fields a rule may test; see the SecurityPolicy reference in README. */
export interface RequestConditions {
  readonly authenticated?: boolean | undefined;
  readonly principals?: readonly string[] | undefined;
  readonly consumers?: readonly string[] | undefined;
  readonly consumerMetadata?: Readonly<Record<string, string>> | undefined;
  readonly claims?: readonly { readonly name: string; readonly values: readonly string[] }[] | undefined;
  readonly sourceCIDRs?: readonly string[] | undefined;
  readonly methods?: readonly string[] | undefined;
  readonly paths?: readonly string[] | undefined;
  readonly hosts?: readonly string[] | undefined;
  readonly headers?: readonly { readonly name: string; readonly values: readonly string[] }[] | undefined;
}

/**
 * Request conditions shared by authorization and rate-limit rules: every given field must hold
 * (AND); within a list any value will do (OR). `foldCase` compares paths case-insensitively.
 */
export function compileConditions(spec: RequestConditions, foldCase: boolean): Condition {
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
  if (spec.consumerMetadata) {
    const wanted = Object.entries(spec.consumerMetadata);
    conditions.push((p) => p?.consumer != null && wanted.every(([k, v]) => p.consumer!.metadata[k] === v));
  }
  if (conditions.length === 0) return () => true;
  return (p, req) => conditions.every((c) => c(p, req));
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

/** `*` spans anything; on RE2, so a glob with many stars stays linear against a long id or host. */
function globPattern(glob: string): SafeRegex {
  return compileGlob(glob);
}
