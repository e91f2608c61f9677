/**
 * The few lines a person wants from an explain trail: which route and rule, which backends,
 * which policies, and what the gateway would answer. `--json` prints the trail itself.
 */
export function explainSummary(trail: Readonly<Record<string, unknown>>): string {
  const request = record(trail.request);
  const config = record(trail.config);
  const outcome = record(trail.outcome);
  const considered = list(record(trail.routing).considered).map(record);
  const matched = considered.find((c) => c.result === "matched");
  const call = request.grpc !== undefined ? `gRPC ${text(request.grpc)}, ` : "";
  const lines: [string, string][] = [["request", `${call}${text(request.method)} ${text(request.host)}${request.port ? `:${text(request.port)}` : ""}${text(request.path)}${text(request.query)}  (config ${text(config.version)})`]];
  // East-west: the Service the authority named, and what serves it on that port.
  const service = record(record(trail.routing).service);
  if (service.name !== undefined) lines.push(["service", `${text(service.name)} port ${text(service.port)}: ${text(service.servedBy)}`]);
  if (matched === undefined) {
    lines.push(["route", considered.length === 0 ? `none: no route serves host ${text(request.host)}` : `none of the ${considered.length} rule(s) for this host matched (--json shows why each did not)`]);
  } else {
    lines.push(["route", `${text(matched.route)}, rule ${text(matched.rule)} (${matchText(matched)})${matched.mesh !== undefined ? `, ${text(matched.mesh)}` : ""}`]);
  }
  const balance = record(trail.balance);
  const refs = list(balance.backendRefs).map(record);
  if (refs.length > 0) lines.push(["backend", refs.map(backendText).join(", ")]);
  if (matched !== undefined) lines.push(["policies", policiesText(trail)]);
  lines.push(["decision", decisionText(outcome, balance, refs)]);
  const width = Math.max(...lines.map(([k]) => k.length)) + 2;
  return `${lines.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`).join("\n")}\n`;
}

function matchText(m: Record<string, unknown>): string {
  // A GRPCRoute match is a method match; its POST and gRPC content type are implied.
  const grpc = m.grpcMethod !== undefined;
  const parts = grpc ? [`GRPCRoute method ${text(m.grpcMethod)}`] : [text(m.path)];
  if (m.method !== undefined && !grpc) parts.push(`method ${text(m.method)}`);
  for (const h of list(m.headers)) if (!grpc || !text(h).startsWith("content-type ")) parts.push(`header ${text(h)}`);
  for (const q of list(m.queryParams)) parts.push(`query ${text(q)}`);
  if (m.hostname !== "(any)") parts.push(`host ${text(m.hostname)}`);
  return parts.join(", ");
}

function backendText(r: Record<string, unknown>): string {
  const share = `${text(r.backend)} ${text(r.share)}%`;
  if (r.resolved !== true) return `${share} (not found: 500 for this share)`;
  const endpoints = list(r.endpoints).map(record);
  const down = endpoints.filter((e) => e.healthy === false).length;
  return `${share} (${endpoints.map((e) => text(e.url)).join(" ")}${down > 0 ? `; ${down} unhealthy` : ""})`;
}

function policiesText(trail: Readonly<Record<string, unknown>>): string {
  const parts: string[] = [];
  const traffic = record(trail.rule).trafficPolicy;
  if (typeof traffic === "string") parts.push(`TrafficPolicy ${traffic}`);
  const identity = trail.identity;
  if (typeof identity === "object" && identity !== null) {
    const id = record(identity);
    const policy = record(id.policy);
    const principal = id.principal === null || id.principal === undefined ? "anonymous" : text(record(id.principal).id);
    const authz = trail.authorization;
    const decision = typeof authz === "object" && authz !== null ? authzText(record(authz)) : text(authz);
    parts.push(`SecurityPolicy ${text(policy.name)} (principal ${principal}; ${decision})`);
  }
  const rl = trail.rateLimit;
  if (typeof rl === "object" && rl !== null) {
    const r = record(rl);
    if (r.rule === null) parts.push(`RateLimitPolicy ${text(r.policy)} (no rule applies)`);
    else {
      const limit = record(r.limit);
      parts.push(`RateLimitPolicy ${text(r.policy)} (rule ${text(r.rule)}, ${text(limit.requests)} per ${text(limit.periodMs)} ms, bucket ${text(r.bucket)})`);
    }
  }
  return parts.length === 0 ? "none" : parts.join("; ");
}

function authzText(a: Record<string, unknown>): string {
  const verdict = a.allowed === true ? "allowed" : "denied";
  return `${verdict}${a.rule ? ` by ${text(a.rule)}` : ""}${a.dryRun === true ? " (dry run)" : ""}`;
}

function decisionText(outcome: Record<string, unknown>, balance: Record<string, unknown>, refs: readonly Record<string, unknown>[]): string {
  if (outcome.status !== undefined) return `${text(outcome.status)} ${text(outcome.error)}${outcome.message ? `: ${text(outcome.message)}` : ""}`;
  const response = record(outcome.response);
  if (response.status !== undefined) return `${text(response.status)}${response.location ? ` redirect to ${text(response.location)}` : " from the gateway"}`;
  if (typeof balance.outcome === "string") return balance.outcome;
  if (refs.length === 1) return refs[0]!.resolved === true ? `forward to ${text(refs[0]!.backend)}` : "500 backend_not_found";
  return `forward, ${text(balance.chosenBy)} over ${refs.length} backendRefs`;
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function text(v: unknown): string {
  return v === undefined || v === null ? "" : typeof v === "string" ? v : JSON.stringify(v);
}
