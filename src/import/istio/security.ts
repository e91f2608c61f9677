import type { ImportContext } from "./context.js";
import { arr, label, obj, str, strList, type Obj } from "./fields.js";
import { join, type DocReport } from "./report.js";

/** The workload a policy selects: a Service by its `app` label, or the whole namespace. */
type Target = { readonly namespace: string; readonly service: string | null };

interface Contribution {
  readonly emit: (doc: Obj) => void;
  readonly report: DocReport;
  readonly deny: Obj[];
  readonly allow: Obj[];
  readonly allowPolicy: boolean;
  readonly dryRun: boolean;
  readonly providers: Obj[];
}

/**
 * RequestAuthentication and AuthorizationPolicy documents gathered per workload; `finish` writes
 * one SecurityPolicy per workload, DENY rules then ALLOW rules, as Istio evaluates them.
 */
export class SecurityCollector {
  private readonly byTarget = new Map<string, { target: Target; parts: Contribution[] }>();
  private readonly services = new Map<string, Set<string>>();

  /** Services the import names (hosts, selectors): a namespace-wide policy attaches to them. */
  noteService(namespace: string, service: string): void {
    this.services.set(namespace, (this.services.get(namespace) ?? new Set()).add(service));
  }

  authorizationPolicy(ctx: ImportContext, doc: Obj, name: string): void {
    const r = ctx.report;
    const spec = obj(r, doc.spec, "spec");
    r.unknown(spec, ["selector", "targetRef", "targetRefs", "action", "rules", "provider"], "spec");
    const action = str(r, spec.action, "spec.action") ?? "ALLOW";
    const dryRun = obj(r, obj(r, doc.metadata, "metadata").annotations, "metadata.annotations")["istio.io/dry-run"] === "true";
    if (action === "CUSTOM") return r.dropped("spec.action", "CUSTOM (external authorization) has no meshgate equivalent; this policy is not enforced");
    if (action === "AUDIT") return r.dropped("spec.action", "AUDIT: use the access log");
    if (action !== "ALLOW" && action !== "DENY") return r.invalid("spec.action", `unknown action ${action}`);
    const rules = arr(r, spec.rules, "spec.rules").flatMap((rule, i) => this.rule(ctx, obj(r, rule, join("spec.rules", i)), join("spec.rules", i), label(`${name}-${i}`), action));
    const target = this.target(ctx, spec);
    this.add(target, { emit: ctx.emit, report: ctx.report, deny: action === "DENY" ? rules : [], allow: action === "ALLOW" ? rules : [], allowPolicy: action === "ALLOW", dryRun, providers: [] });
    return undefined;
  }

  requestAuthentication(ctx: ImportContext, doc: Obj): void {
    const r = ctx.report;
    const spec = obj(r, doc.spec, "spec");
    r.unknown(spec, ["selector", "targetRef", "targetRefs", "jwtRules"], "spec");
    const providers = arr(r, spec.jwtRules, "spec.jwtRules").map((j, i) => {
      const p = join("spec.jwtRules", i);
      const rule = obj(r, j, p);
      r.unknown(rule, ["issuer", "audiences", "jwksUri", "jwks", "fromHeaders", "fromParams", "fromCookies", "outputPayloadToHeader", "forwardOriginalToken", "outputClaimToHeaders", "timeout"], p);
      const issuer = str(r, rule.issuer, join(p, "issuer")) ?? r.invalid(join(p, "issuer"), "a jwtRule needs an issuer");
      const provider: Obj = { name: label(`${issuer.replace(/^https?:\/\//, "")}-${i}`), issuer };
      const audiences = strList(r, rule.audiences, join(p, "audiences"));
      if (audiences.length) provider.audiences = audiences;
      const jwks = str(r, rule.jwks, join(p, "jwks"));
      const uri = str(r, rule.jwksUri, join(p, "jwksUri"));
      if (jwks !== undefined) {
        try {
          provider.localJWKS = { keys: (JSON.parse(jwks) as { keys: unknown }).keys };
        } catch {
          r.invalid(join(p, "jwks"), "not a JSON Web Key Set");
        }
      } else provider.remoteJWKS = uri !== undefined ? { uri } : {};
      const headers = arr(r, rule.fromHeaders, join(p, "fromHeaders")).map((h, k) => {
        const ho = obj(r, h, join(join(p, "fromHeaders"), k));
        return { name: str(r, ho.name, "") ?? "authorization", valuePrefix: str(r, ho.prefix, "") ?? "" };
      });
      const params = strList(r, rule.fromParams, join(p, "fromParams"));
      const cookies = strList(r, rule.fromCookies, join(p, "fromCookies"));
      if (headers.length + params.length + cookies.length > 0) provider.extractFrom = { headers, params, cookies };
      if (rule.forwardOriginalToken === true) provider.forwardToken = true;
      const claimHeaders = arr(r, rule.outputClaimToHeaders, join(p, "outputClaimToHeaders")).map((c) => obj(r, c, "")).map((c) => ({ claim: String(c.claim), header: String(c.header) }));
      if (claimHeaders.length) provider.claimToHeaders = claimHeaders;
      if (rule.outputPayloadToHeader !== undefined) r.dropped(join(p, "outputPayloadToHeader"), "use outputClaimToHeaders (claimToHeaders) for the claims the upstream needs");
      if (rule.timeout !== undefined) r.approximated(join(p, "timeout"), "JWKS fetch timeout defaults to 5s");
      return provider;
    });
    this.add(this.target(ctx, spec), { emit: ctx.emit, report: ctx.report, deny: [], allow: [], allowPolicy: false, dryRun: false, providers });
  }

  private target(ctx: ImportContext, spec: Obj): Target {
    const r = ctx.report;
    if (spec.targetRef !== undefined || spec.targetRefs !== undefined) {
      const refs = spec.targetRefs !== undefined ? arr(r, spec.targetRefs, "spec.targetRefs") : [spec.targetRef];
      const first = obj(r, refs[0], "spec.targetRefs[0]");
      if (refs.length > 1) r.dropped("spec.targetRefs", "only the first targetRef is translated");
      if (first.kind === "Service") return { namespace: ctx.namespace, service: String(first.name) };
      r.approximated("spec.targetRefs[0]", `${String(first.kind)} target: applied to the namespace's Services`);
      return { namespace: ctx.namespace, service: null };
    }
    if (spec.selector === undefined) return { namespace: ctx.namespace, service: null };
    const labels = obj(r, obj(r, spec.selector, "spec.selector").matchLabels, "spec.selector.matchLabels");
    const app = labels.app;
    if (typeof app !== "string") {
      r.approximated("spec.selector.matchLabels", "no app label: applied to the namespace's Services");
      return { namespace: ctx.namespace, service: null };
    }
    r.approximated("spec.selector.matchLabels", `workload app=${app} is Service ${app}${Object.keys(labels).length > 1 ? " (other labels ignored)" : ""}`);
    this.noteService(ctx.namespace, app);
    return { namespace: ctx.namespace, service: app };
  }

  private add(target: Target, c: Contribution): void {
    const key = `${target.namespace}/${target.service ?? ""}`;
    const entry = this.byTarget.get(key) ?? { target, parts: [] };
    entry.parts.push(c);
    this.byTarget.set(key, entry);
  }

  /** Translates one Istio rule: from × to combinations, each ANDed with every `when`. */
  private rule(ctx: ImportContext, rule: Obj, path: string, base: string, action: string): Obj[] {
    const r = ctx.report;
    r.unknown(rule, ["from", "to", "when"], path);
    const froms = arr(r, rule.from, join(path, "from")).map((f, i) => this.source(ctx, obj(r, f, join(join(path, "from"), i)).source, join(join(path, "from"), i) + ".source", action));
    const tos = arr(r, rule.to, join(path, "to")).map((t, i) => this.operation(ctx, obj(r, t, join(join(path, "to"), i)).operation, join(join(path, "to"), i) + ".operation", action));
    const when: Obj = {};
    arr(r, rule.when, join(path, "when")).forEach((w, i) => this.condition(ctx, obj(r, w, join(join(path, "when"), i)), join(join(path, "when"), i), when, action));
    const out: Obj[] = [];
    for (const f of froms.length ? froms : [{}]) for (const t of tos.length ? tos : [{}]) {
      const merged: Obj = { ...f, ...t, ...when };
      if (when.headers || t.headers) merged.headers = [...((t.headers as Obj[]) ?? []), ...((when.headers as Obj[]) ?? [])];
      if (f.principals && when.principals) merged.principals = (f.principals as string[]).filter((p) => (when.principals as string[]).includes(p));
      if (f.sourceCIDRs && when.sourceCIDRs) merged.sourceCIDRs = [...(f.sourceCIDRs as string[]), ...(when.sourceCIDRs as string[])];
      if (merged.unmatchable === true) continue;
      delete merged.unmatchable;
      const n = out.length === 0 ? base : label(`${base}-${out.length}`);
      out.push(Object.keys(merged).length ? { name: n, action, ...merged } : { name: n, action, match: "any" });
    }
    return out;
  }

  private source(ctx: ImportContext, v: unknown, path: string, action: string): Obj {
    const r = ctx.report;
    const s = obj(r, v, path);
    r.unknown(s, ["principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals", "namespaces", "notNamespaces", "ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"], path);
    const out: Obj = {};
    const principals = [...strList(r, s.principals, join(path, "principals")).map(spiffe), ...strList(r, s.requestPrincipals, join(path, "requestPrincipals")), ...strList(r, s.namespaces, join(path, "namespaces")).map((ns) => `spiffe://*/ns/${ns}/sa/*`)];
    if (principals.length) out.principals = principals;
    const cidrs = [...strList(r, s.ipBlocks, join(path, "ipBlocks")), ...strList(r, s.remoteIpBlocks, join(path, "remoteIpBlocks"))];
    if (cidrs.length) out.sourceCIDRs = cidrs.map((c) => (c.includes("/") ? c : c.includes(":") ? `${c}/128` : `${c}/32`));
    if (s.ipBlocks !== undefined && s.remoteIpBlocks !== undefined) r.approximated(join(path, "ipBlocks"), "ipBlocks and remoteIpBlocks both test meshgate's client address (either may match)");
    for (const k of ["notPrincipals", "notRequestPrincipals", "notNamespaces", "notIpBlocks", "notRemoteIpBlocks"]) if (s[k] !== undefined) negated(ctx, join(path, k), action);
    return out;
  }

  private operation(ctx: ImportContext, v: unknown, path: string, action: string): Obj {
    const r = ctx.report;
    const o = obj(r, v, path);
    r.unknown(o, ["hosts", "notHosts", "ports", "notPorts", "methods", "notMethods", "paths", "notPaths"], path);
    const out: Obj = {};
    const hosts = strList(r, o.hosts, join(path, "hosts"));
    if (hosts.length) out.hosts = hosts;
    const methods = strList(r, o.methods, join(path, "methods"));
    if (methods.length) out.methods = methods.map((m) => m.toUpperCase());
    const paths: string[] = [];
    strList(r, o.paths, join(path, "paths")).forEach((p, i) => {
      if (p === "*" || !p.includes("*")) return paths.push(p === "*" ? "/*" : p);
      if (p.endsWith("/*") && !p.slice(0, -1).includes("*")) {
        paths.push(p);
        return r.approximated(join(join(path, "paths"), i), `${p} also matches ${p.slice(0, -2)} itself in meshgate`);
      }
      if (p.endsWith("*")) {
        paths.push(p.slice(0, p.lastIndexOf("/") + 1) + "*");
        return r.approximated(join(join(path, "paths"), i), `prefix ${p} widened to the segment prefix ${p.slice(0, p.lastIndexOf("/") + 1)}*`);
      }
      return r.dropped(join(join(path, "paths"), i), `suffix path ${p} has no meshgate form`);
    });
    if (paths.length) out.paths = paths;
    if (o.ports !== undefined) r.dropped(join(path, "ports"), "meshgate rules do not test the destination port; the rule holds on every port");
    for (const k of ["notHosts", "notPorts", "notMethods", "notPaths"]) if (o[k] !== undefined) negated(ctx, join(path, k), action);
    return out;
  }

  private condition(ctx: ImportContext, w: Obj, path: string, out: Obj, action: string): void {
    const r = ctx.report;
    r.unknown(w, ["key", "values", "notValues"], path);
    const key = str(r, w.key, join(path, "key")) ?? r.invalid(join(path, "key"), "a condition needs a key");
    const values = strList(r, w.values, join(path, "values"));
    if (w.notValues !== undefined) negated(ctx, join(path, "notValues"), action);
    if (values.length === 0) return;
    const claim = /^request\.auth\.claims\[(.+)\]$/.exec(key);
    const header = /^request\.headers\[(.+)\]$/.exec(key);
    if (claim) out.claims = [...((out.claims as Obj[]) ?? []), { name: claim[1]!.split("][").join("."), values }];
    else if (header) out.headers = [...((out.headers as Obj[]) ?? []), { name: header[1]!.toLowerCase(), values }];
    else if (key === "source.ip" || key === "remote.ip") out.sourceCIDRs = values.map((c) => (c.includes("/") ? c : `${c}/32`));
    else if (key === "source.principal") out.principals = values.map(spiffe);
    else if (key === "request.auth.principal") out.principals = values;
    else if (key === "source.namespace") out.principals = values.map((ns) => `spiffe://*/ns/${ns}/sa/*`);
    else if (key === "request.auth.audiences") out.claims = [...((out.claims as Obj[]) ?? []), { name: "aud", values }];
    else if (key === "request.auth.presenter") out.claims = [...((out.claims as Obj[]) ?? []), { name: "azp", values }];
    else r.dropped(join(path, "key"), `${key} has no meshgate condition; the rule holds regardless of it`);
  }

  /** Writes the merged SecurityPolicies into the file of each workload's first policy. */
  finish(): void {
    this.reportNamespaceWide();
    for (const { target, parts } of this.byTarget.values()) {
      const wide = target.service === null ? [] : (this.byTarget.get(`${target.namespace}/`)?.parts ?? []);
      const all = [...parts, ...wide];
      const deny = all.flatMap((p) => p.deny);
      const allow = all.flatMap((p) => p.allow);
      const allowPolicy = all.some((p) => p.allowPolicy);
      const providers = all.flatMap((p) => p.providers);
      const rules = [...deny, ...allow];
      // An ALLOW policy with no rules (allow-nothing) admits nothing: Istio then denies every request.
      if (allowPolicy && allow.length === 0) rules.push({ name: "istio-allow-nothing", action: "DENY", match: "any" });
      const spec: Obj = {};
      if (target.service !== null) spec.targetRefs = [{ group: "", kind: "Service", name: target.service }];
      else {
        const services = [...(this.services.get(target.namespace) ?? [])].filter((s) => !this.byTarget.has(`${target.namespace}/${s}`)).slice(0, 16);
        if (services.length === 0) continue;
        spec.targetRefs = services.map((s) => ({ group: "", kind: "Service", name: s }));
      }
      if (providers.length) spec.jwt = { providers, optional: true };
      if (rules.length) spec.authorization = { rules, ...(all.every((p) => p.dryRun || p.providers.length) && all.some((p) => p.dryRun) ? { dryRun: true } : {}) };
      if (!spec.jwt && !spec.authorization) continue;
      parts[0]!.emit({ apiVersion: "meshgate.dev/v1alpha1", kind: "SecurityPolicy", metadata: { name: label(`${target.service ?? target.namespace}-istio`), namespace: target.namespace }, spec });
    }
  }
  /**
   * meshgate policies target Services, not namespaces: a namespace-wide Istio policy reaches the
   * Services this import names in that namespace and no others, which the user must be told.
   */
  private reportNamespaceWide(): void {
    for (const { target, parts } of this.byTarget.values()) {
      if (target.service !== null) continue;
      const covered = new Set(this.services.get(target.namespace) ?? []);
      for (const other of this.byTarget.values()) if (other.target.namespace === target.namespace && other.target.service !== null) covered.add(other.target.service);
      const names = [...covered].sort();
      for (const part of parts) {
        if (names.length === 0) part.report.dropped("spec.selector", `namespace-wide policy, and this import names no Service of namespace ${target.namespace}: not translated; write it as a SecurityPolicy whose targetRefs list that namespace's Services`);
        else part.report.approximated("spec.selector", `namespace-wide policy applied to the Services this import names in ${target.namespace} (${names.join(", ")}); add any other Service of that namespace to its targetRefs`);
      }
    }
  }
}

/** Istio principals are SPIFFE IDs without the scheme. */
function spiffe(p: string): string {
  return p === "*" ? "spiffe://*" : p.startsWith("spiffe://") ? p : `spiffe://${p}`;
}

function negated(ctx: ImportContext, path: string, action: string): void {
  ctx.report.dropped(path, action === "ALLOW" ? "meshgate conditions have no negation; the ALLOW rule now admits those requests too (narrow it by hand)" : "meshgate conditions have no negation; the DENY rule now also denies those requests");
}
