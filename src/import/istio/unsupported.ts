import type { ImportContext } from "./context.js";
import { arr, obj, str, type Obj } from "./fields.js";
import { join } from "./report.js";

const NEAREST: Record<string, string> = {
  EnvoyFilter: "no Envoy filters in meshgate; a local rate limit EnvoyFilter maps to a RateLimitPolicy, a Lua header filter to HTTPRoute header modifiers",
  Sidecar: "meshgate is a shared gateway, not a sidecar: egress scoping has no equivalent",
  WasmPlugin: "no Wasm plugins; use meshgate's stages as Hono middleware (src/middleware.ts) for custom logic",
  Telemetry: "meshgate's metrics (/metrics, --istio-metrics), access log (--access-log) and tracing (--otlp-endpoint) are serve flags",
  ProxyConfig: "proxy settings are serve flags",
  WorkloadEntry: "write a Backend endpoint for the workload's address",
  WorkloadGroup: "write a Backend for the group's workloads",
};

export function translateUnsupported(ctx: ImportContext, kind: string): void {
  ctx.report.dropped("kind", `${kind} is not translated: ${NEAREST[kind] ?? "no meshgate equivalent"}`);
}

/** PeerAuthentication is a listener setting: the report names the serve flags. */
export function translatePeerAuthentication(ctx: ImportContext, doc: Obj): void {
  const r = ctx.report;
  const spec = obj(r, doc.spec, "spec");
  r.unknown(spec, ["selector", "mtls", "portLevelMtls"], "spec");
  const mode = str(r, obj(r, spec.mtls, "spec.mtls").mode, "spec.mtls.mode") ?? "PERMISSIVE";
  const flag = (m: string) => (m === "STRICT" ? "serve --client-ca FILE --client-auth strict" : m === "DISABLE" ? "serve without --client-ca" : "serve --client-ca FILE --client-auth permissive");
  r.approximated("spec.mtls.mode", `${mode} is a listener setting: ${flag(mode)}`);
  for (const [port, v] of Object.entries(obj(r, spec.portLevelMtls, "spec.portLevelMtls"))) {
    const m = str(r, obj(r, v, join("spec.portLevelMtls", port)).mode, join(join("spec.portLevelMtls", port), "mode")) ?? "PERMISSIVE";
    r.approximated(join("spec.portLevelMtls", port), `port ${port}: ${flag(m)} on the listener serving that port`);
  }
  if (spec.selector !== undefined) r.approximated("spec.selector", "applies to the meshgate listener in front of the selected workload");
  void arr;
}
