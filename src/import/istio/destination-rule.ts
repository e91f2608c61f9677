import type { ImportContext } from "./context.js";
import { arr, label, obj, str, type Obj } from "./fields.js";
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
    if (subset.trafficPolicy !== undefined) trafficPolicy(ctx, obj(r, subset.trafficPolicy, join(p, "trafficPolicy")), join(p, "trafficPolicy"), subsetService(ctx.subsetTemplate, host, sname), name);
  });
  if (spec.trafficPolicy !== undefined) trafficPolicy(ctx, obj(r, spec.trafficPolicy, "spec.trafficPolicy"), "spec.trafficPolicy", service, name);
  if (spec.exportTo !== undefined) r.dropped("spec.exportTo", "meshgate has no per-namespace visibility");
  if (spec.workloadSelector !== undefined) r.dropped("spec.workloadSelector", "meshgate applies the settings to every caller; there is no client-side workload");
}

function trafficPolicy(ctx: ImportContext, tp: Obj, path: string, service: string, drName: string): void {
  const r = ctx.report;
  r.unknown(tp, ["connectionPool", "outlierDetection", "loadBalancer", "tls", "portLevelSettings", "tunnel", "proxyProtocol"], path);
  if (tp.connectionPool !== undefined) {
    const cp = obj(r, tp.connectionPool, join(path, "connectionPool"));
    const tcp = obj(r, cp.tcp, join(path, "connectionPool.tcp"));
    const http = obj(r, cp.http, join(path, "connectionPool.http"));
    const maxRequests = http.http2MaxRequests ?? tcp.maxConnections;
    const pending = http.http1MaxPendingRequests;
    r.dropped(join(path, "connectionPool"), `Backend settings have no Service-targeted policy yet: set on Backend ${service}: spec.circuitBreaker {maxRequests: ${String(maxRequests ?? 1024)}, maxPendingRequests: ${String(pending ?? 0)}}${tcp.maxConnections !== undefined ? `, spec.connection.maxConnections: ${String(tcp.maxConnections)}` : ""}`);
  }
  if (tp.outlierDetection !== undefined) {
    const od = obj(r, tp.outlierDetection, join(path, "outlierDetection"));
    r.dropped(join(path, "outlierDetection"), `set on Backend ${service}: spec.outlierDetection {consecutive5xx: ${String(od.consecutive5xxErrors ?? 5)}, consecutiveGatewayErrors: ${String(od.consecutiveGatewayErrors ?? 3)}, baseEjectionTime: ${String(od.baseEjectionTime ?? "30s")}, maxEjectionPercent: ${String(od.maxEjectionPercent ?? 10)}} (interval: meshgate counts consecutive failures, not per interval)`);
  }
  if (tp.loadBalancer !== undefined) {
    const p = join(path, "loadBalancer");
    const lb = obj(r, tp.loadBalancer, p);
    if (lb.consistentHash !== undefined) {
      const ch = obj(r, lb.consistentHash, join(p, "consistentHash"));
      const header = str(r, ch.httpHeaderName, join(p, "consistentHash.httpHeaderName"));
      const cookie = ch.httpCookie !== undefined ? str(r, obj(r, ch.httpCookie, join(p, "consistentHash.httpCookie")).name, join(p, "consistentHash.httpCookie.name")) : undefined;
      if (header !== undefined || cookie !== undefined) {
        // A Service-targeted sessionAffinity hashes the key over the Service's endpoints, as Istio does.
        ctx.emit({
          apiVersion: "meshgate.dev/v1alpha1",
          kind: "TrafficPolicy",
          metadata: { name: label(`${drName}-${service}-affinity`), namespace: ctx.namespace },
          spec: { targetRefs: [{ group: "", kind: "Service", name: service }], sessionAffinity: header !== undefined ? { header } : { cookie } },
        });
        r.approximated(join(p, "consistentHash"), "consistent hashing on the same key over the Service's endpoints (a Service-targeted TrafficPolicy sessionAffinity; meshgate's hash, not Istio's ring)");
      } else r.dropped(join(p, "consistentHash"), "only httpHeaderName and httpCookie hash keys translate");
    }
    if (lb.simple !== undefined) r.dropped(join(p, "simple"), `load balancer ${String(lb.simple)}: meshgate balances by endpoint weight (weighted random with outlier ejection)`);
    for (const k of Object.keys(lb)) if (k !== "simple" && k !== "consistentHash") r.dropped(join(p, k), "not translated");
  }
  if (tp.tls !== undefined) {
    const tls = obj(r, tp.tls, join(path, "tls"));
    const mode = str(r, tls.mode, join(path, "tls.mode"));
    if (mode === "ISTIO_MUTUAL") r.dropped(join(path, "tls"), `Istio mTLS certificates come from istiod: give Backend ${service} spec.tls.clientCertificate (certFile/keyFile) and spec.tls.ca from your mesh CA`);
    else if (mode === "SIMPLE" || mode === "MUTUAL") r.dropped(join(path, "tls"), `set on Backend ${service}: spec.tls {caFile: ${String(tls.caCertificates ?? "…")}${tls.sni ? `, serverName: ${String(tls.sni)}` : ""}${mode === "MUTUAL" ? `, clientCertificate: {certFile: ${String(tls.clientCertificate ?? "…")}, keyFile: ${String(tls.privateKey ?? "…")}}` : ""}} with https:// endpoints`);
    else if (mode !== "DISABLE" && mode !== undefined) r.dropped(join(path, "tls.mode"), `unknown mode ${mode}`);
  }
  arr(r, tp.portLevelSettings, join(path, "portLevelSettings")).forEach((pl, i) => r.dropped(join(join(path, "portLevelSettings"), i), `per-port settings: give Backend ${service} the settings for that port (meshgate applies Backend settings to every port)`));
  for (const k of ["tunnel", "proxyProtocol"]) if (tp[k] !== undefined) r.dropped(join(path, k), "not supported");
}
