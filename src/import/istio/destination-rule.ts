import type { ImportContext } from "./context.js";
import { arr, durationMs, durationText, label, num, obj, str, type Obj } from "./fields.js";
import { serviceOf, subsetService } from "./hosts.js";
import { join } from "./report.js";

/**
 * DestinationRule: subsets are Services named by the template (no Backend written: the Service is
 * found like any other); trafficPolicy attaches to the Service, never as a second Backend.
 */
export function translateDestinationRule(ctx: ImportContext, doc: Obj, name: string): void {
  const r = ctx.report;
  const spec = obj(r, doc.spec, "spec");
  r.unknown(spec, ["host", "subsets", "trafficPolicy", "exportTo", "workloadSelector"], "spec");
  const host = str(r, spec.host, "spec.host") ?? r.invalid("spec.host", "a DestinationRule needs a host");
  const service = serviceOf(host)?.name ?? host;
  arr(r, spec.subsets, "spec.subsets").forEach((s, i) => {
    const p = join("spec.subsets", i);
    const subset = obj(r, s, p);
    r.unknown(subset, ["name", "labels", "trafficPolicy"], p);
    const sname = str(r, subset.name, join(p, "name")) ?? r.invalid(join(p, "name"), "a subset needs a name");
    r.approximated(join(p, "labels"), `label subset ${sname} is Service ${subsetService(ctx.subsetTemplate, host, sname)} (--subset-service); that Service must select these labels`);
    if (subset.trafficPolicy !== undefined) trafficPolicy(ctx, obj(r, subset.trafficPolicy, join(p, "trafficPolicy")), join(p, "trafficPolicy"), subsetService(ctx.subsetTemplate, host, sname), `${name}-${sname}`);
  });
  if (spec.trafficPolicy !== undefined) trafficPolicy(ctx, obj(r, spec.trafficPolicy, "spec.trafficPolicy"), "spec.trafficPolicy", service, name);
  if (spec.exportTo !== undefined) r.dropped("spec.exportTo", "meshgate has no per-namespace visibility");
  if (spec.workloadSelector !== undefined) r.dropped("spec.workloadSelector", "meshgate applies the settings to every caller; there is no client-side workload");
}

/**
 * A DestinationRule's (or subset's) trafficPolicy becomes one BackendTrafficPolicy for the
 * Service: the same Backend settings a Backend document has, written for the Service.
 */
function trafficPolicy(ctx: ImportContext, tp: Obj, path: string, service: string, policyName: string): void {
  const r = ctx.report;
  r.unknown(tp, ["connectionPool", "outlierDetection", "loadBalancer", "tls", "portLevelSettings", "tunnel", "proxyProtocol"], path);
  const spec: Obj = {};
  if (tp.connectionPool !== undefined) connectionPool(ctx, obj(r, tp.connectionPool, join(path, "connectionPool")), join(path, "connectionPool"), spec);
  if (tp.outlierDetection !== undefined) outlierDetection(ctx, obj(r, tp.outlierDetection, join(path, "outlierDetection")), join(path, "outlierDetection"), spec);
  if (tp.loadBalancer !== undefined) loadBalancer(ctx, obj(r, tp.loadBalancer, join(path, "loadBalancer")), join(path, "loadBalancer"), spec);
  if (tp.tls !== undefined) tls(ctx, obj(r, tp.tls, join(path, "tls")), join(path, "tls"), service, spec);
  arr(r, tp.portLevelSettings, join(path, "portLevelSettings")).forEach((_, i) => r.dropped(join(join(path, "portLevelSettings"), i), `per-port settings: a BackendTrafficPolicy applies to every port of Service ${service}; merge these by hand`));
  for (const k of ["tunnel", "proxyProtocol"]) if (tp[k] !== undefined) r.dropped(join(path, k), "not supported");
  if (Object.keys(spec).length === 0) return;
  ctx.emit({ apiVersion: "meshgate.dev/v1alpha1", kind: "BackendTrafficPolicy", metadata: { name: label(policyName), namespace: ctx.namespace }, spec: { targetRefs: [{ group: "", kind: "Service", name: service }], ...spec } });
}

function connectionPool(ctx: ImportContext, cp: Obj, path: string, spec: Obj): void {
  const r = ctx.report;
  r.unknown(cp, ["tcp", "http"], path);
  const tcp = obj(r, cp.tcp, join(path, "tcp"));
  const http = obj(r, cp.http, join(path, "http"));
  r.unknown(tcp, ["maxConnections", "connectTimeout", "tcpKeepalive", "maxConnectionDuration", "idleTimeout"], join(path, "tcp"));
  r.unknown(http, ["http1MaxPendingRequests", "http2MaxRequests", "maxRequestsPerConnection", "maxRetries", "idleTimeout", "h2UpgradePolicy", "useClientProtocol", "maxConcurrentStreams"], join(path, "http"));
  const breaker: Obj = {};
  const connection: Obj = {};
  const maxRequests = num(r, http.http2MaxRequests, join(path, "http.http2MaxRequests"));
  const maxConnections = num(r, tcp.maxConnections, join(path, "tcp.maxConnections"));
  if (maxRequests !== undefined) breaker.maxRequests = maxRequests;
  if (maxConnections !== undefined) {
    // Envoy's limit counts connections to the whole cluster; over HTTP/1.1 that bounds its requests in flight.
    if (maxRequests === undefined) breaker.maxRequests = maxConnections;
    r.approximated(join(path, "tcp.maxConnections"), `meshgate bounds requests in flight to the whole Service (circuitBreaker.maxRequests${maxRequests === undefined ? ` ${maxConnections}` : ", from http2MaxRequests"}), not its connections`);
  }
  const pending = num(r, http.http1MaxPendingRequests, join(path, "http.http1MaxPendingRequests"));
  if (pending !== undefined) breaker.maxPendingRequests = pending;
  const perConnection = num(r, http.maxRequestsPerConnection, join(path, "http.maxRequestsPerConnection"));
  if (perConnection !== undefined && perConnection > 0) connection.maxRequestsPerConnection = perConnection;
  const connectMs = durationMs(r, tcp.connectTimeout, join(path, "tcp.connectTimeout"));
  if (connectMs !== undefined) connection.connectTimeout = durationText(connectMs);
  const idleMs = durationMs(r, http.idleTimeout ?? tcp.idleTimeout, join(path, http.idleTimeout !== undefined ? "http.idleTimeout" : "tcp.idleTimeout"));
  if (idleMs !== undefined) connection.idleTimeout = durationText(idleMs);
  if (http.maxRetries !== undefined) r.dropped(join(path, "http.maxRetries"), "retries are bounded by the retry budget of the route's TrafficPolicy (retry.budget)");
  for (const k of ["tcpKeepalive", "maxConnectionDuration"]) if (tcp[k] !== undefined) r.dropped(join(join(path, "tcp"), k), "not supported");
  for (const k of ["h2UpgradePolicy", "useClientProtocol", "maxConcurrentStreams"]) if (http[k] !== undefined) r.dropped(join(join(path, "http"), k), "the upstream protocol follows the Backend's appProtocol");
  if (Object.keys(breaker).length > 0) spec.circuitBreaker = breaker;
  if (Object.keys(connection).length > 0) spec.connection = connection;
}

function outlierDetection(ctx: ImportContext, od: Obj, path: string, spec: Obj): void {
  const r = ctx.report;
  r.unknown(od, ["consecutive5xxErrors", "consecutiveGatewayErrors", "consecutiveErrors", "consecutiveLocalOriginFailures", "splitExternalLocalOriginErrors", "interval", "baseEjectionTime", "maxEjectionPercent", "minHealthPercent"], path);
  const out: Obj = {};
  const fivexx = num(r, od.consecutive5xxErrors ?? od.consecutiveErrors, join(path, od.consecutive5xxErrors !== undefined ? "consecutive5xxErrors" : "consecutiveErrors"));
  if (fivexx !== undefined && fivexx > 0) out.consecutive5xx = fivexx;
  const gateway = num(r, od.consecutiveGatewayErrors, join(path, "consecutiveGatewayErrors"));
  if (gateway !== undefined && gateway > 0) out.consecutiveGatewayErrors = gateway;
  const base = durationMs(r, od.baseEjectionTime, join(path, "baseEjectionTime"));
  if (base !== undefined) out.baseEjectionTime = durationText(base);
  // Istio's default is 10%, meshgate's 50%: write Istio's so the behaviour is Istio's.
  out.maxEjectionPercent = num(r, od.maxEjectionPercent, join(path, "maxEjectionPercent")) ?? 10;
  if (od.interval !== undefined) r.approximated(join(path, "interval"), "meshgate counts consecutive failures as they happen; there is no analysis interval");
  if (od.minHealthPercent !== undefined) r.approximated(join(path, "minHealthPercent"), "meshgate balances over every endpoint when none is healthy, instead of a panic threshold");
  if (od.consecutiveLocalOriginFailures !== undefined || od.splitExternalLocalOriginErrors !== undefined) r.approximated(join(path, od.consecutiveLocalOriginFailures !== undefined ? "consecutiveLocalOriginFailures" : "splitExternalLocalOriginErrors"), "meshgate ejects an endpoint on its first local-origin failure (refused, unreachable, TLS handshake)");
  spec.outlierDetection = out;
}

function loadBalancer(ctx: ImportContext, lb: Obj, p: string, spec: Obj): void {
  const r = ctx.report;
  if (lb.consistentHash !== undefined) {
    const ch = obj(r, lb.consistentHash, join(p, "consistentHash"));
    r.unknown(ch, ["httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName", "ringHash", "maglev", "minimumRingSize"], join(p, "consistentHash"));
    const header = str(r, ch.httpHeaderName, join(p, "consistentHash.httpHeaderName"));
    const cookieSpec = ch.httpCookie !== undefined ? obj(r, ch.httpCookie, join(p, "consistentHash.httpCookie")) : undefined;
    const cookie = cookieSpec !== undefined ? str(r, cookieSpec.name, join(p, "consistentHash.httpCookie.name")) : undefined;
    if (header !== undefined) spec.loadBalancer = { type: "ConsistentHash", consistentHash: { header } };
    else if (cookie !== undefined) {
      spec.loadBalancer = { type: "ConsistentHash", consistentHash: { cookie } };
      if (cookieSpec?.ttl !== undefined || cookieSpec?.path !== undefined) r.approximated(join(p, "consistentHash.httpCookie"), "meshgate hashes the cookie the client sends and never sets one: requests without it are balanced at random");
    } else r.dropped(join(p, "consistentHash"), "only httpHeaderName and httpCookie hash keys translate");
    for (const k of ["ringHash", "maglev", "minimumRingSize"]) if (ch[k] !== undefined) r.approximated(join(join(p, "consistentHash"), k), "meshgate's hash has no tunable ring");
  }
  if (lb.simple !== undefined) {
    const simple = str(r, lb.simple, join(p, "simple"));
    if (simple === "RANDOM") spec.loadBalancer = { type: "Random" };
    else if (simple !== "UNSPECIFIED") r.approximated(join(p, "simple"), `${String(simple)}: meshgate balances by endpoint weight (weighted random, outlier ejection)`);
  }
  for (const k of Object.keys(lb)) if (k !== "simple" && k !== "consistentHash") r.dropped(join(p, k), "not translated");
}

function tls(ctx: ImportContext, t: Obj, path: string, service: string, spec: Obj): void {
  const r = ctx.report;
  r.unknown(t, ["mode", "caCertificates", "clientCertificate", "privateKey", "sni", "subjectAltNames", "insecureSkipVerify", "credentialName", "caCrl"], path);
  const mode = str(r, t.mode, join(path, "mode"));
  if (mode === undefined || mode === "DISABLE") return;
  if (mode === "ISTIO_MUTUAL") return r.dropped(path, `Istio mTLS certificates come from istiod: give Service ${service} a BackendTrafficPolicy tls.clientCertificate (certFile/keyFile) and tls.caFile from your mesh CA`);
  if (mode !== "SIMPLE" && mode !== "MUTUAL") return r.invalid(join(path, "mode"), `unknown TLS mode ${mode} (DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL)`);
  const out: Obj = {};
  const ca = str(r, t.caCertificates, join(path, "caCertificates"));
  if (ca !== undefined) out.caFile = ca;
  const sni = str(r, t.sni, join(path, "sni"));
  if (sni !== undefined) out.serverName = sni;
  if (t.insecureSkipVerify === true) out.insecureSkipVerify = true;
  if (mode === "MUTUAL") {
    const cert = str(r, t.clientCertificate, join(path, "clientCertificate"));
    const key = str(r, t.privateKey, join(path, "privateKey"));
    if (cert !== undefined && key !== undefined) out.clientCertificate = { certFile: cert, keyFile: key };
    else r.dropped(join(path, "clientCertificate"), "MUTUAL needs clientCertificate and privateKey files (credentialName secrets are not read)");
  }
  if (t.credentialName !== undefined) r.dropped(join(path, "credentialName"), "Kubernetes secrets are not read: mount the files and give their paths (caFile, clientCertificate)");
  if (t.subjectAltNames !== undefined) r.approximated(join(path, "subjectAltNames"), "the certificate is verified against serverName (sni) or the endpoint host, not a SAN list");
  if (t.caCrl !== undefined) r.dropped(join(path, "caCrl"), "no CRL checking");
  r.approximated(path, `TLS applies to https:// endpoints: Service ${service}'s Backend must list its endpoints as https://`);
  spec.tls = out;
}
