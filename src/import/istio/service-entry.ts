import type { ImportContext } from "./context.js";
import { arr, num, obj, str, strList, type Obj } from "./fields.js";
import { join } from "./report.js";

/** ServiceEntry → one Backend per host, with the first HTTP(S) port. */
export function translateServiceEntry(ctx: ImportContext, doc: Obj): void {
  const r = ctx.report;
  const spec = obj(r, doc.spec, "spec");
  r.unknown(spec, ["hosts", "ports", "resolution", "endpoints", "location", "addresses", "exportTo", "workloadSelector", "subjectAltNames"], "spec");
  const ports = arr(r, spec.ports, "spec.ports").map((p, i) => obj(r, p, join("spec.ports", i)));
  const httpPorts = ports.map((p, i) => ({ p, i })).filter(({ p }) => ["HTTP", "HTTPS", "HTTP2", "GRPC", "TLS"].includes(String(p.protocol ?? "HTTP").toUpperCase()));
  ports.forEach((p, i) => {
    if (!httpPorts.some((h) => h.i === i)) r.dropped(join("spec.ports", i), `protocol ${String(p.protocol)}: meshgate forwards HTTP only`);
  });
  if (httpPorts.length === 0) return r.dropped("spec", "no HTTP port; no Backend written");
  const chosen = httpPorts[0]!.p;
  httpPorts.slice(1).forEach(({ i }) => r.dropped(join("spec.ports", i), "a Backend has one origin per endpoint: only the first HTTP port is used"));
  const number = num(r, chosen.number, "spec.ports[0].number") ?? r.invalid("spec.ports[0].number", "a port needs a number");
  const target = num(r, chosen.targetPort, "spec.ports[0].targetPort") ?? number;
  const scheme = ["HTTPS", "TLS"].includes(String(chosen.protocol).toUpperCase()) ? "https" : "http";
  const resolution = str(r, spec.resolution, "spec.resolution") ?? "NONE";
  const endpoints = arr(r, spec.endpoints, "spec.endpoints").map((e, i) => {
    const ep = obj(r, e, join("spec.endpoints", i));
    r.unknown(ep, ["address", "ports", "weight", "locality", "labels", "network", "serviceAccount"], join("spec.endpoints", i));
    const address = str(r, ep.address, join(join("spec.endpoints", i), "address")) ?? r.invalid(join(join("spec.endpoints", i), "address"), "an endpoint needs an address");
    const epPort = typeof obj(r, ep.ports, "")[String(chosen.name)] === "number" ? (obj(r, ep.ports, "")[String(chosen.name)] as number) : target;
    const weight = num(r, ep.weight, join(join("spec.endpoints", i), "weight"));
    const host = address.includes(":") ? `[${address}]` : address;
    return { url: `${scheme}://${host}:${epPort}`, ...(weight !== undefined ? { weight } : {}), ...(typeof ep.locality === "string" ? { zone: ep.locality } : {}) };
  });
  if (resolution === "NONE") r.approximated("spec.resolution", "NONE (pass-through to the original destination): the Backend forwards to the host by DNS");
  if (spec.addresses !== undefined) r.dropped("spec.addresses", "virtual IPs are not used; requests reach the Backend by host");
  for (const k of ["location", "exportTo", "workloadSelector", "subjectAltNames"]) if (spec[k] !== undefined) r.dropped(join("spec", k), "not translated");
  for (const host of strList(r, spec.hosts, "spec.hosts")) {
    if (host.includes("*")) {
      r.dropped("spec.hosts", `wildcard host ${host}: a Backend needs concrete endpoints`);
      continue;
    }
    ctx.emit({
      apiVersion: "meshgate.dev/v1alpha1",
      kind: "Backend",
      metadata: { name: host, namespace: ctx.namespace },
      spec: { endpoints: endpoints.length ? endpoints : [{ url: `${scheme}://${host}:${target}` }] },
    });
  }
  return undefined;
}
