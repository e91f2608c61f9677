/** @jsxImportSource hono/jsx */
import type { Snapshot } from "../snapshot/snapshot.js";
import type { CompiledRule } from "../routing/compiled-rule.js";
import type { GatewayMetrics, RouteTraffic } from "../telemetry/gateway-metrics.js";
import type { UpstreamState } from "../upstream/upstream-state.js";

export interface DashboardData {
  readonly snapshot: Snapshot;
  readonly metrics: GatewayMetrics;
  readonly upstreams?: UpstreamState | undefined;
  readonly reloadError: string | null;
  readonly refreshSeconds?: number;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d232a;background:#f6f8fa}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px}
.meta{color:#57606a} .err{color:#b42318;font-weight:600}
table{border-collapse:collapse;background:#fff;width:100%;margin-bottom:8px}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top} th{background:#eef1f4}
td.num{text-align:right;font-variant-numeric:tabular-nums} .bad{color:#b42318} .warn{color:#9a6700} .ok{color:#1a7f37}
.bar{display:inline-block;height:8px;background:#0969da;vertical-align:middle}`;

/** Server-rendered admin dashboard: routes, configured vs observed split, health, config version. */
export function Dashboard({ snapshot, metrics, upstreams, reloadError, refreshSeconds = 2 }: DashboardData) {
  const rules = [...new Map(snapshot.routes.entries.map((e) => [e.rule.id, e.rule])).values()];
  const now = upstreams?.clock.now() ?? 0;
  const minuteNow = metrics.now();
  return (
    <html>
      <head>
        <meta charset="utf-8" />
        <title>meshgate dashboard</title>
        <meta http-equiv="refresh" content={String(refreshSeconds)} />
        <style>{STYLE}</style>
      </head>
      <body>
        <h1>meshgate</h1>
        <div class="meta">
          config version <b id="config-version">{snapshot.version}</b> · hash {snapshot.hash.slice(0, 12)} · from {snapshot.source.location} · loaded {snapshot.loadedAt.toISOString()} ·
          {` ${snapshot.counts.routes} routes, ${snapshot.counts.rules} rules, ${snapshot.counts.backends} backends`}
        </div>
        {reloadError ? <p class="err">last reload refused: {reloadError}</p> : null}
        <h2>Routes and traffic split</h2>
        <table id="routes">
          <thead>
            <tr><th>rule</th><th>matches</th><th>policies</th><th>backend</th><th>configured</th><th>observed</th><th>requests</th><th>last min</th><th>4xx</th><th>last min</th><th>5xx</th><th>last min</th><th>mean latency</th></tr>
          </thead>
          <tbody>{rules.flatMap((rule) => ruleRows(rule, snapshot, metrics, minuteNow))}</tbody>
        </table>
        <h2>Endpoints</h2>
        <table id="endpoints">
          <thead>
            <tr><th>backend</th><th>endpoint</th><th>priority</th><th>weight</th><th>state</th></tr>
          </thead>
          <tbody>
            {[...snapshot.backends.values()].flatMap((b) =>
              b.endpoints.map((e) => {
                const h = upstreams?.health.backend(b.key).endpoints.get(e.origin);
                const ejected = h !== undefined && now < h.ejectedUntil;
                const failing = h !== undefined && !h.activeHealthy;
                return (
                  <tr>
                    <td>{b.key}</td><td>{e.origin}</td><td class="num">{e.priority}</td><td class="num">{e.weight}</td>
                    <td class={ejected || failing ? "bad" : "ok"}>{ejected ? `ejected (${Math.round((h!.ejectedUntil - now) / 1000)} s left)` : failing ? "failing health checks" : "healthy"}</td>
                  </tr>
                );
              }),
            )}
          </tbody>
        </table>
        <h2>Resilience</h2>
        <table id="resilience">
          <tbody>
            <tr><td>retries</td><td class="num">{upstreams?.counters.retries ?? 0}</td></tr>
            <tr><td>hedges</td><td class="num">{upstreams?.counters.hedges ?? 0}</td></tr>
            <tr><td>retries skipped (budget, body size)</td><td class="num">{upstreams?.counters.retriesSkipped ?? 0}</td></tr>
            <tr><td>ejections</td><td class="num">{upstreams?.counters.ejections ?? 0}</td></tr>
            <tr><td>circuit breaker rejections</td><td class="num">{upstreams?.counters.breakerRejections ?? 0}</td></tr>
            <tr><td>rate-limit rejections (429)</td><td class="num" id="rate-limited">{metrics.rateLimitDecisions.sum((l) => l[2] === "limited")}</td></tr>
            <tr><td>rate-limit shadow rejections (not enforced)</td><td class="num">{metrics.rateLimitDecisions.sum((l) => l[2] === "shadow_limited")}</td></tr>
            <tr><td>rate-limit store errors</td><td class="num">{metrics.rateLimitDecisions.sum((l) => l[2] === "store_error_open" || l[2] === "store_error_closed")}</td></tr>
            <tr><td>authentication / authorization refusals</td><td class="num" id="auth-failures">{metrics.authFailures.sum(() => true)}</td></tr>
          </tbody>
        </table>
        {/* Relative links: the same page serves at /dashboard (Node) and under MESHGATE_ADMIN_PATH (Workers). */}
        <p class="meta">refreshes every {refreshSeconds} s · "last min": answers in the last 60 s · <a href="metrics">metrics</a> · <a href="config">config</a> · explain: explain?url=…</p>
      </body>
    </html>
  );
}

function ruleRows(rule: CompiledRule, snapshot: Snapshot, metrics: GatewayMetrics, now: number) {
  const matches = snapshot.routes.entries.filter((e) => e.rule === rule).map((e) => `${e.hostPattern ?? "*"} ${e.path.type} ${e.path.value}${e.method ? ` ${e.method}` : ""}${e.headers.map((h) => ` [${h.name}]`).join("")}`);
  const observed = metrics.traffic.get(rule.id) ?? new Map<string, RouteTraffic>();
  const totalWeight = rule.backendRefs.reduce((s, r) => s + r.weight, 0);
  // The split is over requests that reached a backend choice (refusals, 429s and 404s have none).
  const totalSeen = [...observed.entries()].reduce((s, [backend, t]) => (backend === "" ? s : s + t.requests), 0);
  // Answers the gateway gave itself (a redirect, a refusal, a 429) count on their own row, where they were served.
  const rows: { key: string; ref: CompiledRule["backendRefs"][number] | null; label: string }[] = rule.backendRefs.map((ref) => ({ key: ref.key, ref, label: ref.key }));
  if (rows.length === 0 || observed.has("")) rows.push({ key: "", ref: null, label: rule.redirect ? "(redirect)" : rows.length === 0 ? "(none)" : "(answered by the gateway)" });
  return rows.map(({ key, ref, label }, i) => {
    const t = observed.get(key);
    const minute = t?.lastMinute.lastMinute(now);
    const configured = ref && totalWeight > 0 ? (ref.weight / totalWeight) * 100 : 0;
    const seen = ref && t && totalSeen > 0 ? (t.requests / totalSeen) * 100 : 0;
    return (
      <tr data-rule={rule.id} data-backend={key}>
        {i === 0 ? <td rowspan={rows.length}>{rule.id}</td> : null}
        {i === 0 ? <td rowspan={rows.length}>{matches.join(", ")}</td> : null}
        {i === 0 ? <td rowspan={rows.length}>{[rule.security ? `security ${rule.security.name}` : null, rule.rateLimit ? `rate limit ${rule.rateLimit.name}` : null, rule.trafficPolicy ? `traffic ${rule.trafficPolicy}` : null].filter(Boolean).join(", ") || "—"}</td> : null}
        <td>{label}</td>
        <td class="num configured">{ref ? `${configured.toFixed(1)}%` : "—"}</td>
        <td class="num observed">{ref ? <><span class="bar" style={`width:${Math.round(seen)}px`} /> {seen.toFixed(1)}%</> : "—"}</td>
        <td class="num requests">{t?.requests ?? 0}</td>
        <td class="num requests-minute">{minute?.requests ?? 0}</td>
        <td class={`num client-errors ${t && t.clientErrors > 0 ? "warn" : ""}`}>{t?.clientErrors ?? 0}</td>
        <td class="num client-errors-minute">{minute?.clientErrors ?? 0}</td>
        <td class={`num server-errors ${t && t.errors > 0 ? "bad" : ""}`}>{t?.errors ?? 0}</td>
        <td class="num server-errors-minute">{minute?.serverErrors ?? 0}</td>
        <td class="num">{t && t.requests > 0 ? `${((t.seconds / t.requests) * 1000).toFixed(1)} ms` : "—"}</td>
      </tr>
    );
  });
}
