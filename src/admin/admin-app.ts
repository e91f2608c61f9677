import { Hono } from "hono";
import { bearerChecker } from "../http/secret-compare.js";
import type { PreparedSnapshotHolder as SnapshotHolder } from "../config/prepared-snapshot-holder.js";
import { formatPolicyIssue } from "../policy/issues.js";
import type { Registry } from "../telemetry/metrics.js";
import type { UpstreamState } from "../upstream/upstream-state.js";
import { explain, type ExplainInput } from "./explain.js";
import type { SecurityDeps } from "../identity/security-stage.js";
import { Dashboard } from "./dashboard.js";
import type { GatewayMetrics } from "../telemetry/gateway-metrics.js";

export interface AdminOptions {
  /** Service discovery's view of each name (addresses, TTL, the last failure while it lasts), for /config. */
  readonly discovery?: () => readonly unknown[];
  readonly holder: SnapshotHolder;
  readonly metrics: Registry;
  /** The gateway's metrics object, for the dashboard's per-route traffic. */
  readonly gatewayMetrics?: GatewayMetrics;
  /** True while shutting down: readiness fails so load balancers stop sending traffic. */
  readonly draining?: () => boolean;
  /** The gateway's key sets and key store, so /explain verifies credentials as traffic is. */
  readonly security?: SecurityDeps;
  /** Live endpoint health for /explain and the dashboard. */
  readonly upstreams?: UpstreamState;
  /**
   * When set, every endpoint but /ready and /healthz (which probes must reach) needs
   * `Authorization: Bearer <token>`, compared in constant time.
   */
  readonly token?: string;
}

/** Probes: no secrets in them, and kubelet / load balancers call them without credentials. */
const OPEN_PATHS = new Set(["/ready", "/healthz"]);

/** The admin API: readiness, liveness, metrics and the config in force. */
export function adminApp(options: AdminOptions): Hono {
  const { holder } = options;
  const app = new Hono();
  if (options.token !== undefined) {
    const check = bearerChecker(options.token);
    app.use(async function adminToken(c, next) {
      // /ready?verbose names key set URLs (possibly internal hosts): only probes' plain /ready is open.
      const open = OPEN_PATHS.has(c.req.path) && !(c.req.path === "/ready" && c.req.query("verbose") !== undefined);
      if (open || (await check(c.req.header("authorization")))) return next();
      return c.json({ error: { code: "unauthenticated", message: "admin API needs the admin bearer token" } }, 401, { "www-authenticate": 'Bearer realm="meshgate-admin"' });
    });
  }
  app.get("/ready", (c) => {
    if (options.draining?.()) return c.json({ ready: false, reason: "draining" }, 503);
    if (!holder.ready) return c.json({ ready: false, reason: "no configuration loaded" }, 503);
    // Ready even while a JWT key set was never fetched: an identity provider that is down must not
    // take every replica (and the routes without JWT) out of service. Its routes answer 503
    // jwks_unavailable meanwhile; the body says so, ?verbose says which.
    const keySets = options.security?.jwks.status() ?? [];
    const unfetched = keySets.filter((k) => k.fetchedAt === null);
    const verbose = c.req.query("verbose") !== undefined;
    return c.json({
      ready: true,
      version: holder.current().version,
      ...(unfetched.length > 0 ? { keySetsNotFetched: unfetched.length } : {}),
      ...(verbose ? { keySets: keySets.map((k) => ({ uri: k.uri, fetched: k.fetchedAt !== null, fetchedAt: k.fetchedAt, keys: k.keys, lastError: k.lastError })) } : {}),
    });
  });
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/metrics", (c) => c.text(options.metrics.render(), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }));
  app.get("/config", (c) => {
    if (!holder.ready) return c.json({ error: { code: "not_ready", message: "no configuration loaded" } }, 503);
    const s = holder.current();
    const failure = holder.lastFailure;
    return c.json({
      version: s.version,
      hash: s.hash,
      source: s.source,
      loadedAt: s.loadedAt.toISOString(),
      counts: s.counts,
      warnings: s.warnings.map(formatPolicyIssue),
      lastReloadError: failure === null ? null : { at: failure.at.toISOString(), message: failure.message, refused: failure.refused },
      routes: [...new Set(s.routes.entries.map((e) => e.rule.id))],
      backends: [...s.backends].map(([name, b]) => ({ name, endpoints: b.endpoints.map((e) => e.origin) })),
      // Remote key sets: how many keys, when fetched, the last error (an IdP outage shows here).
      jwks: options.security?.jwks.status() ?? [],
      // DNS discovery: what each Service name resolved to; a failing name keeps its last good answer and says so.
      ...(options.discovery ? { discovery: options.discovery() } : {}),
    });
  });
  app.get("/dashboard", (c) => {
    if (!holder.ready || !options.gatewayMetrics) return c.text("no configuration loaded yet", 503);
    return c.html(Dashboard({ snapshot: holder.current(), metrics: options.gatewayMetrics, upstreams: options.upstreams, reloadError: holder.lastFailure?.message ?? null }));
  });
  // Relative, so it stays under the path the admin API is mounted at (Workers: MESHGATE_ADMIN_PATH).
  app.get("/", (c) => c.redirect("dashboard"));
  app.on(["GET", "POST"], "/explain", async (c) => {
    if (!holder.ready) return c.json({ error: { code: "not_ready", message: "no configuration loaded" } }, 503);
    let input: ExplainInput;
    if (c.req.method === "POST") {
      const body = (await c.req.json().catch(() => null)) as Partial<ExplainInput> | null;
      if (body === null || typeof body.url !== "string") return c.json({ error: { code: "bad_request", message: 'POST a JSON body {"method","url","headers"}' } }, 400);
      input = { method: body.method ?? "GET", url: body.url, headers: body.headers ?? {}, ...(typeof body.clientAddress === "string" ? { clientAddress: body.clientAddress } : {}) };
    } else {
      const url = c.req.query("url");
      if (!url) return c.json({ error: { code: "bad_request", message: "give ?url=...&method=GET&header=name:value" } }, 400);
      const headers = Object.fromEntries(c.req.queries("header")?.map((h) => [h.slice(0, h.indexOf(":")).trim(), h.slice(h.indexOf(":") + 1).trim()]) ?? []);
      const from = c.req.query("from");
      input = { method: c.req.query("method") ?? "GET", url, headers, ...(from ? { clientAddress: from } : {}) };
    }
    try {
      return c.json(await explain(holder.current(), input, { ...(options.upstreams ? { upstreams: options.upstreams, now: options.upstreams.clock.now() } : {}), ...(options.security ? { security: options.security } : {}) }));
    } catch (err) {
      return c.json({ error: { code: "bad_request", message: (err as Error).message } }, 400);
    }
  });
  app.notFound((c) => c.json({ error: { code: "no_route", message: `no admin endpoint ${c.req.path}` } }, 404));
  return app;
}
