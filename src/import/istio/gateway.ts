import type { ImportContext } from "./context.js";
import { arr, label, num, obj, str, strList, type Obj } from "./fields.js";
import { join } from "./report.js";

/** networking.istio.io Gateway → Gateway API Gateway; servers become listeners. */
export function translateGateway(ctx: ImportContext, doc: Obj, name: string): void {
  const r = ctx.report;
  const spec = obj(r, doc.spec, "spec");
  r.unknown(spec, ["selector", "servers"], "spec");
  if (spec.selector !== undefined) r.approximated("spec.selector", "the meshgate serve that loads this Gateway is the gateway the selector picked");
  const listeners: Obj[] = [];
  const names = new Set<string>();
  arr(r, spec.servers, "spec.servers").forEach((s, i) => {
    const p = join("spec.servers", i);
    const server = obj(r, s, p);
    r.unknown(server, ["port", "hosts", "tls", "name", "bind", "defaultEndpoint"], p);
    const port = obj(r, server.port, join(p, "port"));
    const number = num(r, port.number, join(p, "port.number")) ?? r.invalid(join(p, "port.number"), "a server needs a port number");
    const istioProtocol = (str(r, port.protocol, join(p, "port.protocol")) ?? "HTTP").toUpperCase();
    const tls = obj(r, server.tls, join(p, "tls"));
    const mode = str(r, tls.mode, join(p, "tls.mode"));
    let protocol = istioProtocol === "HTTPS" ? "HTTPS" : istioProtocol === "TLS" ? "TLS" : istioProtocol === "TCP" ? "TCP" : "HTTP";
    if (["HTTP2", "GRPC"].includes(istioProtocol)) protocol = "HTTP";
    const listenerTls: Obj | undefined = protocol === "HTTPS" || protocol === "TLS" ? { mode: mode === "PASSTHROUGH" ? "Passthrough" : "Terminate" } : undefined;
    const credential = str(r, tls.credentialName, join(p, "tls.credentialName"));
    if (credential !== undefined && listenerTls) {
      listenerTls.certificateRefs = [{ name: credential }];
      r.approximated(join(p, "tls.credentialName"), `meshgate takes listener certificates from serve --tls-cert/--tls-key: export the Secret ${credential} to files`);
    }
    if (mode === "MUTUAL") r.approximated(join(p, "tls.mode"), "client certificates: serve --client-ca FILE --client-auth strict");
    if (mode === "ISTIO_MUTUAL") r.dropped(join(p, "tls.mode"), "Istio-issued certificates: give serve --tls-cert/--tls-key/--client-ca from your mesh CA");
    if (mode === "PASSTHROUGH" || mode === "AUTO_PASSTHROUGH") r.dropped(join(p, "tls.mode"), "TLS passthrough is not served by meshgate");
    for (const k of Object.keys(tls)) if (!["mode", "credentialName", "httpsRedirect"].includes(k)) r.dropped(join(join(p, "tls"), k), "TLS settings come from serve flags");
    if (tls.httpsRedirect === true) r.dropped(join(p, "tls.httpsRedirect"), "add an HTTPRoute with a RequestRedirect filter (scheme: https) on this listener");
    for (const k of ["bind", "defaultEndpoint"]) if (server[k] !== undefined) r.dropped(join(p, k), "sidecar ingress settings are not translated");
    const hosts = strList(r, server.hosts, join(p, "hosts"));
    (hosts.length ? hosts : ["*"]).forEach((h, k) => {
      let host = h;
      if (h.includes("/")) {
        const [ns, rest] = h.split("/", 2) as [string, string];
        host = rest;
        if (ns !== "*" && ns !== ".") r.approximated(join(join(p, "hosts"), k), `namespace ${ns}/: routes of every namespace may attach (allowedRoutes from: All)`);
      }
      let lname = label(str(r, server.name, join(p, "name")) ?? str(r, port.name, join(p, "port.name")) ?? `${protocol.toLowerCase()}-${number}`);
      if (hosts.length > 1 || names.has(lname)) lname = label(`${lname}-${k}`);
      names.add(lname);
      listeners.push({
        name: lname,
        port: number,
        protocol,
        ...(host !== "*" ? { hostname: host } : {}),
        ...(listenerTls ? { tls: listenerTls } : {}),
        allowedRoutes: { namespaces: { from: "All" } },
      });
    });
  });
  if (listeners.length === 0) r.invalid("spec.servers", "an Istio Gateway needs at least one server");
  ctx.emit({ apiVersion: "gateway.networking.k8s.io/v1", kind: "Gateway", metadata: { name, namespace: ctx.namespace }, spec: { gatewayClassName: "meshgate", listeners } });
}
