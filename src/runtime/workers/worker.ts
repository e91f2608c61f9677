import type { Hono } from "hono";
import { adminApp } from "../../admin/admin-app.js";
import { adminAuth } from "../../admin/admin-auth.js";
import { BundleReloader } from "../../config/bundle-reloader.js";
import { SnapshotHolder } from "../../config/snapshot-holder.js";
import { createGatewayHandler, type GatewayHandler } from "../../index.js";
import { GatewayError, errorBody } from "../../http/gateway-error.js";
import { GatewayMetrics } from "../../telemetry/gateway-metrics.js";
import { KvStore, type KvBinding } from "./kv-store.js";
import { OtlpExporter } from "../../telemetry/otlp-exporter.js";
import { accessLogEntry } from "../../telemetry/access-log.js";
import { analyticsPoint } from "../../telemetry/analytics-point.js";
import { certificateFromCf } from "./tls-client-auth.js";
import { JwksRegistry } from "../../identity/jwks-registry.js";
import { parsePathRejections, pathRejectionWarning } from "../../hygiene/normalize-path.js";
import { parseByteSize } from "../../hygiene/body-limit.js";
import { parseUnderscoreHeaders, parseUntrustedTraceparent } from "../../hygiene/hygiene.js";
import { KvApiKeyStore } from "./kv-key-store.js";
import { FetchTransport } from "../../upstream/fetch-transport.js";
import { meshOptions } from "../../routing/mesh.js";
import { BindingLimiterStore, DurableObjectLimiterStore, type RateLimiterNamespace, type WorkersRateLimitBinding } from "./rate-limiter-object.js";

export { RateLimiter } from "./rate-limiter-object.js";

/** Bindings and variables from wrangler.toml. */
export interface WorkerEnv {
  readonly POLICIES: KvBinding;
  /** How long an isolate serves its cached config before re-reading KV in the background. Default 5000. */
  readonly MESHGATE_CONFIG_TTL_MS?: string;
  /** Enables the admin API under MESHGATE_ADMIN_PATH for requests bearing this token. */
  readonly MESHGATE_ADMIN_TOKEN?: string;
  /** Default "/__meshgate". */
  readonly MESHGATE_ADMIN_PATH?: string;
  /** OTLP/HTTP collector base URL: spans are exported in batches through waitUntil. */
  readonly MESHGATE_OTLP_ENDPOINT?: string;
  /** "on" writes one JSON access-log line per request with console.log (Workers Logs / Logpush). */
  readonly MESHGATE_ACCESS_LOG?: string;
  /** Workers Analytics Engine dataset binding: one data point per request when bound. */
  readonly MESHGATE_ANALYTICS?: AnalyticsDataset;
  /** KV namespace of per-key API key entries (`apikey:<sha256>`), for SecurityPolicies with `apiKey.keyStore: true`. */
  readonly API_KEYS?: KvBinding;
  /** Path spellings answered with 400: "encoded-slash,backslash,semicolon" (default) or a subset, or "none". */
  readonly MESHGATE_PATH_REJECT?: string;
  /** Request body limit for rules whose TrafficPolicy sets none: "10Mi" (default), "512Ki", bytes, or "0" for none. */
  readonly MESHGATE_MAX_BODY_SIZE?: string;
  /** Header names with "_": "drop-trusted" (default), "drop", "reject" or "allow". */
  readonly MESHGATE_HEADERS_WITH_UNDERSCORES?: string;
  /** A caller's traceparent: "restart" (default: a new trace, theirs kept as a span link) or "continue". */
  readonly MESHGATE_UNTRUSTED_TRACEPARENT?: string;
  /** Comma-separated CIDRs whose forwarding headers are believed (default: none that can reach a Worker). */
  readonly MESHGATE_TRUSTED_PROXIES?: string;
  /** Durable Object namespace of RateLimiter: the global store for `store: global` rate limits. */
  readonly RATE_LIMITER?: RateLimiterNamespace;
  /** The namespace mesh callers are in: bare `Host: S` names Service S of it (default "default"). */
  readonly MESHGATE_NAMESPACE?: string;
  /** The suffix of `S.N.svc.<domain>` authorities (default "cluster.local"). */
  readonly MESHGATE_CLUSTER_DOMAIN?: string;
}

/** What meshgate uses of an Analytics Engine dataset binding. */
export interface AnalyticsDataset {
  writeDataPoint(point: { blobs?: string[]; doubles?: number[]; indexes?: string[] }): void;
}

interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

/** Per-isolate state: config, breakers and metrics live as long as the isolate does. */
interface Isolate {
  readonly holder: SnapshotHolder;
  readonly reloader: BundleReloader;
  readonly gateway: GatewayHandler;
  readonly admin: Hono;
  readonly metrics: GatewayMetrics;
  readonly tracer: OtlpExporter | null;
  readonly jwks: JwksRegistry;
  checkedAt: number;
  flushedAt: number;
}

let isolate: Isolate | null = null;

function createIsolate(env: WorkerEnv): Isolate {
  const pathWarning = env.MESHGATE_PATH_REJECT !== undefined ? pathRejectionWarning(parsePathRejections(env.MESHGATE_PATH_REJECT)) : null;
  if (pathWarning !== null) console.warn(JSON.stringify({ level: "warn", message: `MESHGATE_PATH_REJECT: ${pathWarning}` }));
  const mesh = meshOptions(env.MESHGATE_NAMESPACE || undefined, env.MESHGATE_CLUSTER_DOMAIN || undefined, { namespace: "MESHGATE_NAMESPACE", clusterDomain: "MESHGATE_CLUSTER_DOMAIN" });
  // Bundles carry parsed documents; the Worker has no YAML parser (wrangler.toml aliases it away).
  const holder = new SnapshotHolder({ compile: { mesh, yaml: "refuse" } });
  const metrics = new GatewayMetrics();
  const tracer = env.MESHGATE_OTLP_ENDPOINT ? new OtlpExporter({ endpoint: env.MESHGATE_OTLP_ENDPOINT, onError: (err) => console.error(JSON.stringify({ level: "warn", message: "span export failed", error: String(err) })) }) : null;
  const accessLog = env.MESHGATE_ACCESS_LOG === "on";
  const analytics = env.MESHGATE_ANALYTICS;
  const apiKeys = env.API_KEYS ? new KvApiKeyStore(env.API_KEYS) : null;
  const jwks = new JwksRegistry(undefined, Date.now, (err, context) => console.error(JSON.stringify({ level: "warn", message: `${context}: fetch failed`, error: String(err) })));
  holder.onSwap((s) => {
    metrics.swapped(s);
    console.log(JSON.stringify({ level: "info", message: "configuration loaded", version: s.version, hash: s.hash }));
  });
  return {
    holder,
    metrics,
    reloader: new BundleReloader(new KvStore(env.POLICIES, "POLICIES"), holder),
    tracer,
    jwks,
    flushedAt: 0,
    gateway: createGatewayHandler({
      snapshot: () => holder.current(),
      ...(tracer ? { tracer } : {}),
      observe: (o) => {
        metrics.observe(o);
        if (accessLog) console.log(JSON.stringify(accessLogEntry(o, Date.now() - (performance.now() - o.request.startTime))));
        analytics?.writeDataPoint(analyticsPoint(o));
      },
      clientAddress: (req) => req.headers.get("cf-connecting-ip") ?? "",
      peerCertificate: certificateFromCf,
      // workerd cancels a dropped client's subrequests itself; listening on request.signal only costs.
      followRequestSignal: false,
      jwks,
      ...(env.MESHGATE_PATH_REJECT !== undefined ? { pathNormalization: parsePathRejections(env.MESHGATE_PATH_REJECT) } : {}),
      ...(env.MESHGATE_HEADERS_WITH_UNDERSCORES !== undefined ? { underscoreHeaders: parseUnderscoreHeaders(env.MESHGATE_HEADERS_WITH_UNDERSCORES, "MESHGATE_HEADERS_WITH_UNDERSCORES") } : {}),
      ...(env.MESHGATE_UNTRUSTED_TRACEPARENT !== undefined ? { untrustedTraceparent: parseUntrustedTraceparent(env.MESHGATE_UNTRUSTED_TRACEPARENT, "MESHGATE_UNTRUSTED_TRACEPARENT") } : {}),
      ...(env.MESHGATE_TRUSTED_PROXIES !== undefined ? { trustedProxies: env.MESHGATE_TRUSTED_PROXIES.split(",").map((s) => s.trim()).filter(Boolean) } : {}),
      ...(env.MESHGATE_MAX_BODY_SIZE !== undefined ? { maxRequestBodyBytes: parseByteSize(env.MESHGATE_MAX_BODY_SIZE) } : {}),
      transport: new FetchTransport(undefined, (name) => bindingWith<{ fetch: typeof fetch }>(env, name, "fetch") ?? undefined),
      apiKeyStore: apiKeys,
      limiters: {
        global: env.RATE_LIMITER ? new DurableObjectLimiterStore(env.RATE_LIMITER) : null,
        binding: (name) => {
          const b = bindingWith<WorkersRateLimitBinding>(env, name, "limit");
          return b === null ? null : new BindingLimiterStore(b);
        },
      },
      onError: (err, context) => console.error(JSON.stringify({ level: "error", message: `${context} failed`, error: String(err), cause: String((err as { cause?: unknown }).cause ?? "") })),
    }),
    admin: adminApp({ holder, metrics: metrics.registry, gatewayMetrics: metrics, security: { jwks, apiKeyStore: apiKeys, now: Date.now } }),
    checkedAt: 0,
  };
}

async function refresh(state: Isolate): Promise<void> {
  state.checkedAt = Date.now();
  try {
    const outcome = await state.reloader.refresh();
    if (outcome.kind === "rejected") console.error(JSON.stringify({ level: "error", message: "policy bundle refused; keeping the last good configuration", reason: outcome.reason }));
  } catch (err) {
    // KV unavailable: keep serving what we have.
    console.error(JSON.stringify({ level: "error", message: "cannot read policies from KV", error: String(err) }));
  }
}

/** The Worker: the same pipeline as Node, config from KV with an isolate cache. */
export default {
  async fetch(request: Request, env: WorkerEnv, ctx: WaitUntil): Promise<Response> {
    const state = (isolate ??= createIsolate(env));
    const ttl = Number(env.MESHGATE_CONFIG_TTL_MS ?? "5000");
    if (!state.holder.ready) await refresh(state);
    else if (Date.now() - state.checkedAt >= ttl) ctx.waitUntil(refresh(state));

    if (env.MESHGATE_ADMIN_TOKEN) {
      const adminPath = env.MESHGATE_ADMIN_PATH ?? "/__meshgate";
      const url = new URL(request.url);
      if (url.pathname === adminPath || url.pathname.startsWith(`${adminPath}/`)) {
        // The dashboard's links are relative: they resolve under the admin path only from "PATH/".
        if (url.pathname === adminPath) return Response.redirect(`${url.origin}${adminPath}/`, 308);
        const refused = await adminAuth(request, { token: env.MESHGATE_ADMIN_TOKEN, path: adminPath });
        if (refused !== null) return refused;
        url.pathname = url.pathname.slice(adminPath.length);
        return state.admin.fetch(new Request(url, request));
      }
    }
    if (!state.holder.ready) {
      const err = new GatewayError("no_config", "no policy bundle has been published to KV yet");
      return new Response(errorBody(err), { status: err.status, headers: { "content-type": "application/json" } });
    }
    const response = await state.gateway(request);
    // JWKS fetches this request started in the background finish even after the response is sent.
    const background = state.jwks.takeBackground();
    if (background.length > 0) ctx.waitUntil(Promise.allSettled(background));
    // Spans leave in batches after the response, never in its way.
    if (state.tracer && state.tracer.pending > 0 && (state.tracer.pending >= 64 || Date.now() - state.flushedAt >= 1_000)) {
      state.flushedAt = Date.now();
      ctx.waitUntil(state.tracer.flush());
    }
    return response;
  },
};

/** A binding a policy names at run time (mtls_certificates, ratelimits), if the Worker has it with that method. */
function bindingWith<T>(env: WorkerEnv, name: string, method: string): T | null {
  const binding = (env as unknown as Record<string, unknown>)[name];
  return typeof binding === "object" && binding !== null && typeof (binding as Record<string, unknown>)[method] === "function" ? (binding as T) : null;
}

/** For tests: forget the isolate's state. */
export function resetIsolate(): void {
  isolate = null;
}
