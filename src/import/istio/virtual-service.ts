import type { ImportContext } from "./context.js";
import { arr, durationMs, durationText, escapeRegex, label, num, obj, percent, str, strList, type Obj } from "./fields.js";
import { serviceOf, subsetService } from "./hosts.js";
import { join } from "./report.js";

const MATCH_FIELDS = ["name", "uri", "headers", "withoutHeaders", "queryParams", "method", "authority", "ignoreUriCase", "scheme", "port", "sourceLabels", "gateways", "sourceNamespace", "statPrefix"];
const HTTP_FIELDS = ["name", "match", "route", "redirect", "rewrite", "timeout", "retries", "fault", "mirror", "mirrors", "mirrorPercentage", "mirrorPercent", "mirror_percent", "corsPolicy", "headers", "directResponse", "delegate"];

/** networking.istio.io VirtualService → HTTPRoutes (mesh parents and/or Gateway parents) and TrafficPolicies per rule. */
export function translateVirtualService(ctx: ImportContext, doc: Obj, name: string, delegates: (name: string, ns: string) => Obj | undefined): void {
  const r = ctx.report;
  const spec = obj(r, doc.spec, "spec");
  r.unknown(spec, ["hosts", "gateways", "http", "tcp", "tls", "exportTo"], "spec");
  const hosts = strList(r, spec.hosts, "spec.hosts");
  const gateways = strList(r, spec.gateways, "spec.gateways");
  if (spec.exportTo !== undefined) r.dropped("spec.exportTo", "meshgate has no per-namespace visibility; the routes apply to every caller of this gateway");
  if (spec.tcp !== undefined) r.dropped("spec.tcp", "meshgate routes HTTP and gRPC only");
  if (spec.tls !== undefined) r.dropped("spec.tls", "TLS passthrough routing (SNI) is not supported; terminate TLS at a listener and route HTTP");

  const parentRefs: Obj[] = [];
  const meshHosts: string[] = [];
  const meshBound = gateways.length === 0 || gateways.includes("mesh");
  for (const [i, g] of gateways.entries()) {
    if (g === "mesh") continue;
    const [gns, gname] = g.includes("/") ? g.split("/", 2) : [undefined, g];
    parentRefs.push({ name: gname, ...(gns !== undefined && gns !== ctx.namespace ? { namespace: gns } : {}) });
    void i;
  }
  const gatewayHostnames: string[] = [];
  for (const [i, h] of hosts.entries()) {
    if (meshBound) {
      const svc = serviceOf(h);
      if (svc) {
        parentRefs.push({ group: "", kind: "Service", name: svc.name, ...(svc.namespace && svc.namespace !== ctx.namespace ? { namespace: svc.namespace } : {}) });
        meshHosts.push(h);
      } else if (gateways.length === 0 || gateways.every((g) => g === "mesh")) {
        r.dropped(join("spec.hosts", i), `host ${h} is not a Kubernetes Service name; mesh routes attach to Services only`);
      }
    }
    if (gateways.some((g) => g !== "mesh") && h !== "*") gatewayHostnames.push(h);
  }
  const hasGatewayParents = gateways.some((g) => g !== "mesh");
  if (hasGatewayParents && meshBound && meshHosts.length > 0 && gatewayHostnames.length > 0) {
    // hostnames narrow Gateway parents only; mesh parents take the Service as the host.
  }

  const rules: Obj[] = [];
  const http = flatten(ctx, arr(r, spec.http, "spec.http"), "spec.http", delegates);
  for (const { route, path, inherited } of http) {
    const ruleName = label(str(r, route.name, join(path, "name")) ?? `rule-${rules.length}`);
    const rule = translateHttp(ctx, route, path, ruleName, inherited, name);
    if (rule) rules.push(rule);
  }
  if (rules.length === 0) {
    r.dropped("spec.http", "no HTTP route to translate; no HTTPRoute written");
    return;
  }
  const unique = new Set<string>();
  for (const rule of rules) {
    let n = rule.name as string;
    for (let k = 2; unique.has(n); k++) n = `${rule.name as string}-${k}`;
    rule.name = n;
    unique.add(n);
  }
  ctx.emit({
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name, namespace: ctx.namespace },
    spec: { ...(parentRefs.length ? { parentRefs } : {}), ...(gatewayHostnames.length ? { hostnames: gatewayHostnames } : {}), rules },
  });
  if (hasGatewayParents && meshBound && meshHosts.length > 0) r.approximated("spec.gateways", "bound to mesh and Gateways: one HTTPRoute with Service and Gateway parents; its hostnames narrow the Gateway listeners only");
}

interface FlatRoute {
  readonly route: Obj;
  readonly path: string;
  /** A delegating parent's match, combined with the child's. */
  readonly inherited: Obj[] | undefined;
}

/** `delegate` is flattened: the child's routes, each under the parent's match. */
function flatten(ctx: ImportContext, http: unknown[], path: string, delegates: (name: string, ns: string) => Obj | undefined): FlatRoute[] {
  const r = ctx.report;
  const out: FlatRoute[] = [];
  http.forEach((h, i) => {
    const route = obj(r, h, join(path, i));
    if (route.delegate === undefined) return out.push({ route, path: join(path, i), inherited: undefined });
    const d = obj(r, route.delegate, join(join(path, i), "delegate"));
    const child = delegates(str(r, d.name, join(path, `${i}].delegate.name`)) ?? "", str(r, d.namespace, "") ?? ctx.namespace);
    if (!child) return r.dropped(join(join(path, i), "delegate"), `delegate VirtualService ${String(d.name)} is not among the inputs; its routes are missing`);
    const parentMatch = arr(r, route.match, join(join(path, i), "match")).map((m) => obj(r, m, ""));
    for (const [k, c] of arr(r, obj(r, child.spec, "").http, "").entries()) out.push({ route: obj(r, c, ""), path: `${join(path, i)}.delegate(${String(d.name)}).http[${k}]`, inherited: parentMatch });
    return undefined;
  });
  return out;
}

function translateHttp(ctx: ImportContext, route: Obj, path: string, ruleName: string, inherited: Obj[] | undefined, routeName: string): Obj | null {
  const r = ctx.report;
  r.unknown(route, HTTP_FIELDS, path);
  const rule: Obj = { name: ruleName };
  let matches = arr(r, route.match, join(path, "match")).map((m, i) => translateMatch(ctx, obj(r, m, join(join(path, "match"), i)), join(join(path, "match"), i)));
  if (inherited && inherited.length) {
    const parent = inherited.map((m, i) => translateMatch(ctx, m, `${path}(delegating match ${i})`));
    matches = matches.length === 0 ? parent : parent.flatMap((p) => matches.map((c) => ({ ...p, ...c, headers: [...((p.headers as Obj[]) ?? []), ...((c.headers as Obj[]) ?? [])] })));
  }
  if (matches.length) rule.matches = matches;
  const filters: Obj[] = [];
  const headers = obj(r, route.headers, join(path, "headers"));
  r.unknown(headers, ["request", "response"], join(path, "headers"));
  const req = headerModifier(ctx, headers.request, join(join(path, "headers"), "request"));
  if (req) filters.push({ type: "RequestHeaderModifier", requestHeaderModifier: req });
  const res = headerModifier(ctx, headers.response, join(join(path, "headers"), "response"));
  if (res) filters.push({ type: "ResponseHeaderModifier", responseHeaderModifier: res });

  if (route.redirect !== undefined) {
    const p = join(path, "redirect");
    const d = obj(r, route.redirect, p);
    r.unknown(d, ["uri", "authority", "port", "scheme", "redirectCode", "derivePort"], p);
    const code = num(r, d.redirectCode, join(p, "redirectCode")) ?? 301;
    const redirect: Obj = { statusCode: [301, 302, 303, 307, 308].includes(code) ? code : 301 };
    if (![301, 302, 303, 307, 308].includes(code)) r.approximated(join(p, "redirectCode"), `status ${code} is not a redirect status Gateway API allows; 301 used`);
    const uri = str(r, d.uri, join(p, "uri"));
    if (uri !== undefined) redirect.path = { type: "ReplaceFullPath", replaceFullPath: uri };
    const authority = str(r, d.authority, join(p, "authority"));
    if (authority !== undefined) redirect.hostname = authority;
    const port = num(r, d.port, join(p, "port"));
    if (port !== undefined) redirect.port = port;
    const scheme = str(r, d.scheme, join(p, "scheme"));
    if (scheme !== undefined) redirect.scheme = scheme;
    if (d.derivePort !== undefined) r.approximated(join(p, "derivePort"), "the redirect keeps the port of the request unless port is set (Gateway API behaviour)");
    filters.push({ type: "RequestRedirect", requestRedirect: redirect });
  }
  if (route.rewrite !== undefined) {
    const p = join(path, "rewrite");
    const w = obj(r, route.rewrite, p);
    r.unknown(w, ["uri", "authority", "uriRegexRewrite"], p);
    const rewrite: Obj = {};
    const uri = str(r, w.uri, join(p, "uri"));
    if (uri !== undefined) {
      const allPrefix = matches.length > 0 && matches.every((m) => (m.path as Obj | undefined)?.type === "PathPrefix");
      rewrite.path = allPrefix ? { type: "ReplacePrefixMatch", replacePrefixMatch: uri } : { type: "ReplaceFullPath", replaceFullPath: uri };
      if (!allPrefix && matches.some((m) => (m.path as Obj | undefined)?.type === "PathPrefix")) r.approximated(join(p, "uri"), "the rule mixes prefix and other matches; the whole path is replaced");
    }
    const authority = str(r, w.authority, join(p, "authority"));
    if (authority !== undefined) rewrite.hostname = authority;
    if (w.uriRegexRewrite !== undefined) r.dropped(join(p, "uriRegexRewrite"), "Gateway API URLRewrite has no regex rewrite; write ReplaceFullPath or ReplacePrefixMatch by hand");
    if (Object.keys(rewrite).length) filters.push({ type: "URLRewrite", urlRewrite: rewrite });
  }
  const mirrors: { dest: Obj; pct: number | undefined; path: string }[] = [];
  if (route.mirror !== undefined) mirrors.push({ dest: obj(r, route.mirror, join(path, "mirror")), pct: percent(r, route.mirrorPercentage ?? route.mirrorPercent ?? route.mirror_percent, join(path, "mirrorPercentage")), path: join(path, "mirror") });
  arr(r, route.mirrors, join(path, "mirrors")).forEach((m, i) => {
    const mp = join(join(path, "mirrors"), i);
    const mo = obj(r, m, mp);
    r.unknown(mo, ["destination", "percentage"], mp);
    mirrors.push({ dest: obj(r, mo.destination, join(mp, "destination")), pct: percent(r, mo.percentage, join(mp, "percentage")), path: join(mp, "destination") });
  });
  for (const m of mirrors) {
    const mirror: Obj = { backendRef: backendRef(ctx, m.dest, m.path) };
    if (m.pct !== undefined) {
      if (Number.isInteger(m.pct)) mirror.percent = m.pct;
      else mirror.fraction = { numerator: Math.round(m.pct * 100), denominator: 10000 };
    }
    filters.push({ type: "RequestMirror", requestMirror: mirror });
  }
  if (route.corsPolicy !== undefined) filters.push({ type: "CORS", cors: cors(ctx, obj(r, route.corsPolicy, join(path, "corsPolicy")), join(path, "corsPolicy")) });
  if (filters.length) rule.filters = filters;

  const backendRefs = arr(r, route.route, join(path, "route")).map((d, i) => {
    const p = join(join(path, "route"), i);
    const dest = obj(r, d, p);
    r.unknown(dest, ["destination", "weight", "headers"], p);
    const ref = backendRef(ctx, obj(r, dest.destination, join(p, "destination")), join(p, "destination"));
    const weight = num(r, dest.weight, join(p, "weight"));
    if (weight !== undefined) ref.weight = weight;
    const dh = obj(r, dest.headers, join(p, "headers"));
    r.unknown(dh, ["request", "response"], join(p, "headers"));
    const f: Obj[] = [];
    const dreq = headerModifier(ctx, dh.request, join(join(p, "headers"), "request"));
    if (dreq) f.push({ type: "RequestHeaderModifier", requestHeaderModifier: dreq });
    const dres = headerModifier(ctx, dh.response, join(join(p, "headers"), "response"));
    if (dres) f.push({ type: "ResponseHeaderModifier", responseHeaderModifier: dres });
    if (f.length) ref.filters = f;
    return ref;
  });
  if (route.redirect === undefined) {
    if (backendRefs.length) rule.backendRefs = backendRefs;
    else if (route.directResponse !== undefined) r.dropped(join(path, "directResponse"), "Gateway API has no direct response; the rule has no backend and answers 500");
  }
  if (route.directResponse !== undefined && backendRefs.length) r.dropped(join(path, "directResponse"), "Gateway API has no direct response");

  const timeout = durationMs(r, route.timeout, join(path, "timeout"));
  if (timeout !== undefined && timeout > 0) rule.timeouts = { request: durationText(timeout) };
  const traffic: Obj = {};
  if (route.retries !== undefined) traffic.retry = retries(ctx, obj(r, route.retries, join(path, "retries")), join(path, "retries"));
  if (route.fault !== undefined) traffic.fault = fault(ctx, obj(r, route.fault, join(path, "fault")), join(path, "fault"));
  if (Object.keys(traffic).length) {
    ctx.emit({
      apiVersion: "meshgate.dev/v1alpha1",
      kind: "TrafficPolicy",
      metadata: { name: label(`${routeName}-${ruleName}`), namespace: ctx.namespace },
      spec: { targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: routeName, sectionName: ruleName }], ...traffic },
    });
  }
  return rule;
}

function backendRef(ctx: ImportContext, dest: Obj, path: string): Obj {
  const r = ctx.report;
  r.unknown(dest, ["host", "subset", "port"], path);
  const host = str(r, dest.host, join(path, "host")) ?? r.invalid(join(path, "host"), "a destination needs a host");
  const subset = str(r, dest.subset, join(path, "subset"));
  const svc = serviceOf(host);
  const ref: Obj = { name: subset !== undefined ? subsetService(ctx.subsetTemplate, host, subset) : (svc?.name ?? host) };
  if (svc?.namespace && svc.namespace !== ctx.namespace) ref.namespace = svc.namespace;
  if (subset !== undefined) r.approximated(join(path, "subset"), `label subset ${subset} became Service ${ref.name as string} (--subset-service); that Service must select the subset's pods`);
  const port = obj(r, dest.port, join(path, "port"));
  const number = num(r, port.number, join(join(path, "port"), "number"));
  if (number !== undefined) ref.port = number;
  return ref;
}

function stringMatch(ctx: ImportContext, v: unknown, path: string, caseless = false): { type: "Exact" | "RegularExpression"; value: string; prefix?: string } | null {
  const r = ctx.report;
  const m = obj(r, v, path);
  r.unknown(m, ["exact", "prefix", "regex"], path);
  const ci = caseless ? "(?i)" : "";
  if (typeof m.exact === "string") return caseless ? { type: "RegularExpression", value: `${ci}^${escapeRegex(m.exact)}$` } : { type: "Exact", value: m.exact };
  if (typeof m.prefix === "string") return { type: "RegularExpression", value: `${ci}^${escapeRegex(m.prefix)}.*`, prefix: m.prefix };
  if (typeof m.regex === "string") return { type: "RegularExpression", value: `${ci}^(?:${m.regex})$` };
  if (Object.keys(m).length === 0) return { type: "RegularExpression", value: ".*" };
  return r.invalid(path, "a string match needs exact, prefix or regex");
}

function translateMatch(ctx: ImportContext, m: Obj, path: string): Obj {
  const r = ctx.report;
  r.unknown(m, MATCH_FIELDS, path);
  const out: Obj = {};
  const caseless = m.ignoreUriCase === true;
  if (m.uri !== undefined) {
    const u = stringMatch(ctx, m.uri, join(path, "uri"), caseless);
    if (u?.prefix !== undefined && !caseless) {
      out.path = { type: "PathPrefix", value: u.prefix.length > 1 ? u.prefix.replace(/\/+$/, "") || "/" : u.prefix };
      if (u.prefix !== "/") r.approximated(join(path, "uri.prefix"), `Istio's prefix ${u.prefix} is a string prefix; Gateway API PathPrefix matches whole path segments (${u.prefix}x no longer matches)`);
    } else if (u) out.path = u.type === "Exact" ? { type: "Exact", value: u.value } : { type: "RegularExpression", value: u.value };
  }
  const headers: Obj[] = [];
  for (const [name, v] of Object.entries(obj(r, m.headers, join(path, "headers")))) {
    const h = stringMatch(ctx, v, join(join(path, "headers"), name));
    if (h) headers.push({ name, type: h.type, value: h.value });
  }
  if (headers.length) out.headers = headers;
  if (m.withoutHeaders !== undefined) r.dropped(join(path, "withoutHeaders"), "Gateway API matches have no negation; the rule now also matches requests that carry these headers");
  const query: Obj[] = [];
  for (const [name, v] of Object.entries(obj(r, m.queryParams, join(path, "queryParams")))) {
    const q = stringMatch(ctx, v, join(join(path, "queryParams"), name));
    if (q) query.push({ name, type: q.type, value: q.value });
  }
  if (query.length) out.queryParams = query;
  if (m.method !== undefined) {
    const mm = obj(r, m.method, join(path, "method"));
    if (typeof mm.exact === "string") out.method = mm.exact;
    else r.dropped(join(path, "method"), "Gateway API matches one method exactly; prefix/regex method matches dropped");
  }
  if (m.authority !== undefined) {
    const a = stringMatch(ctx, m.authority, join(path, "authority"));
    if (a) headers.push({ name: ":authority", type: a.type, value: a.value });
    if (a) out.headers = headers;
    r.approximated(join(path, "authority"), "matched as the :authority (Host) header; Gateway API puts hosts on the route's hostnames");
  }
  for (const f of ["scheme", "port", "sourceLabels", "gateways", "sourceNamespace"]) if (m[f] !== undefined) r.dropped(join(path, f), `Gateway API HTTPRoute matches have no ${f}; the rule matches regardless`);
  return out;
}

function headerModifier(ctx: ImportContext, v: unknown, path: string): Obj | null {
  const r = ctx.report;
  if (v === undefined) return null;
  const h = obj(r, v, path);
  r.unknown(h, ["set", "add", "remove"], path);
  const out: Obj = {};
  const set = Object.entries(obj(r, h.set, join(path, "set"))).map(([name, value]) => ({ name, value: String(value) }));
  const add = Object.entries(obj(r, h.add, join(path, "add"))).map(([name, value]) => ({ name, value: String(value) }));
  const remove = strList(r, h.remove, join(path, "remove"));
  if (set.length) out.set = set;
  if (add.length) out.add = add;
  if (remove.length) out.remove = remove;
  return Object.keys(out).length ? out : null;
}

function cors(ctx: ImportContext, c: Obj, path: string): Obj {
  const r = ctx.report;
  r.unknown(c, ["allowOrigins", "allowOrigin", "allowMethods", "allowHeaders", "exposeHeaders", "maxAge", "allowCredentials", "unmatchedPreflights"], path);
  const origins: string[] = [];
  arr(r, c.allowOrigins, join(path, "allowOrigins")).forEach((o, i) => {
    const m = obj(r, o, join(join(path, "allowOrigins"), i));
    if (typeof m.exact === "string") origins.push(m.exact);
    else r.dropped(join(join(path, "allowOrigins"), i), "only exact origins (or * wildcards) translate; prefix/regex origins dropped");
  });
  for (const o of strList(r, c.allowOrigin, join(path, "allowOrigin"))) origins.push(o);
  const out: Obj = { allowOrigins: origins };
  const methods = strList(r, c.allowMethods, join(path, "allowMethods"));
  if (methods.length) out.allowMethods = methods;
  const ah = strList(r, c.allowHeaders, join(path, "allowHeaders"));
  if (ah.length) out.allowHeaders = ah;
  const eh = strList(r, c.exposeHeaders, join(path, "exposeHeaders"));
  if (eh.length) out.exposeHeaders = eh;
  const maxAge = durationMs(r, c.maxAge, join(path, "maxAge"));
  if (maxAge !== undefined) out.maxAge = Math.max(1, Math.round(maxAge / 1000));
  if (c.allowCredentials === true) out.allowCredentials = true;
  if (c.unmatchedPreflights !== undefined) r.dropped(join(path, "unmatchedPreflights"), "preflights that match no origin are answered without CORS headers");
  return out;
}

function retries(ctx: ImportContext, v: Obj, path: string): Obj {
  const r = ctx.report;
  r.unknown(v, ["attempts", "perTryTimeout", "retryOn", "retryRemoteLocalities", "retryIgnorePreviousHosts", "backoff"], path);
  const out: Obj = { attempts: Math.min(10, num(r, v.attempts, join(path, "attempts")) ?? 2) };
  const per = durationMs(r, v.perTryTimeout, join(path, "perTryTimeout"));
  if (per !== undefined) out.perTryTimeout = durationText(per);
  const retryOn = str(r, v.retryOn, join(path, "retryOn"));
  if (retryOn !== undefined) {
    const codes = new Set<number>();
    const on = new Set<string>();
    for (const cond of retryOn.split(",").map((s) => s.trim()).filter(Boolean)) {
      if (/^\d{3}$/.test(cond)) codes.add(Number(cond));
      else if (cond === "5xx") for (let c = 500; c <= 599; c++) codes.add(c);
      else if (cond === "gateway-error") [502, 503, 504].forEach((c) => codes.add(c));
      else if (cond === "retriable-4xx") codes.add(409);
      else if (cond === "connect-failure") on.add("connect-failure");
      else if (cond === "reset" || cond === "refused-stream") on.add("reset");
      else if (cond === "retriable-status-codes") continue;
      else r.dropped(join(path, "retryOn"), `retry condition ${cond} has no meshgate equivalent`);
    }
    if (codes.has(500) || codes.size > 0) on.add("timeout");
    out.codes = [...codes].filter((c) => c >= 400);
    out.on = [...on];
  }
  for (const f of ["retryRemoteLocalities", "retryIgnorePreviousHosts"]) if (v[f] !== undefined) r.approximated(join(path, f), "meshgate retries on another endpoint of the Backend when it has one");
  if (v.backoff !== undefined) {
    const b = durationMs(r, v.backoff, join(path, "backoff"));
    if (b !== undefined) out.backoff = { base: durationText(b), max: durationText(Math.max(b, b * 10)) };
  }
  return out;
}

function fault(ctx: ImportContext, v: Obj, path: string): Obj {
  const r = ctx.report;
  r.unknown(v, ["delay", "abort"], path);
  const out: Obj = {};
  if (v.delay !== undefined) {
    const p = join(path, "delay");
    const d = obj(r, v.delay, p);
    r.unknown(d, ["fixedDelay", "percentage", "percent", "exponentialDelay"], p);
    const ms = durationMs(r, d.fixedDelay, join(p, "fixedDelay"));
    if (ms === undefined) r.dropped(join(p, "exponentialDelay"), "only fixed delays translate");
    else out.delay = { duration: durationText(ms), percentage: percent(r, d.percentage ?? d.percent, join(p, "percentage")) ?? 100 };
  }
  if (v.abort !== undefined) {
    const p = join(path, "abort");
    const a = obj(r, v.abort, p);
    r.unknown(a, ["httpStatus", "grpcStatus", "http2Error", "percentage"], p);
    const status = num(r, a.httpStatus, join(p, "httpStatus"));
    if (status === undefined) r.dropped(p, "only httpStatus aborts translate (grpcStatus/http2Error dropped)");
    else out.abort = { status, percentage: percent(r, a.percentage, join(p, "percentage")) ?? 100 };
  }
  return out;
}
