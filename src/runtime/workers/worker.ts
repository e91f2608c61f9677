import type { Hono } from "hono";
import { adminApp } from "../../admin/admin-app.js";
import { BundleReloader } from "../../config/bundle-reloader.js";
import { SnapshotHolder } from "../../config/snapshot-holder.js";
import { createGateway } from "../../index.js";
import { GatewayError, errorBody } from "../../pipeline/gateway-error.js";
import { GatewayMetrics } from "../../telemetry/gateway-metrics.js";
import { KvStore, type KvBinding } from "./kv-store.js";

/** Bindings and variables from wrangler.toml. */
export interface WorkerEnv {
  readonly POLICIES: KvBinding;
  /** How long an isolate serves its cached config before re-reading KV in the background. Default 5000. */
  readonly MESHGATE_CONFIG_TTL_MS?: string;
  /** Enables the admin API under MESHGATE_ADMIN_PATH for requests bearing this token. */
  readonly MESHGATE_ADMIN_TOKEN?: string;
  /** Default "/__meshgate". */
  readonly MESHGATE_ADMIN_PATH?: string;
}

interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

/** Per-isolate state: config, breakers and metrics live as long as the isolate does. */
interface Isolate {
  readonly holder: SnapshotHolder;
  readonly reloader: BundleReloader;
  readonly gateway: Hono;
  readonly admin: Hono;
  readonly metrics: GatewayMetrics;
  checkedAt: number;
}

let isolate: Isolate | null = null;

function createIsolate(env: WorkerEnv): Isolate {
  const holder = new SnapshotHolder();
  const metrics = new GatewayMetrics();
  holder.onSwap((s) => {
    metrics.swapped(s);
    console.log(JSON.stringify({ level: "info", message: "configuration loaded", version: s.version, hash: s.hash }));
  });
  return {
    holder,
    metrics,
    reloader: new BundleReloader(new KvStore(env.POLICIES, "POLICIES"), holder),
    gateway: createGateway({
      snapshot: () => holder.current(),
      observe: metrics.observe,
      clientAddress: (req) => req.headers.get("cf-connecting-ip") ?? "",
      onError: (err, context) => console.error(JSON.stringify({ level: "error", message: `${context} failed`, error: String(err), cause: String((err as { cause?: unknown }).cause ?? "") })),
    }),
    admin: adminApp({ holder, metrics: metrics.registry, gatewayMetrics: metrics }),
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

    const adminPath = env.MESHGATE_ADMIN_PATH ?? "/__meshgate";
    const url = new URL(request.url);
    if (env.MESHGATE_ADMIN_TOKEN && (url.pathname === adminPath || url.pathname.startsWith(`${adminPath}/`))) {
      if (request.headers.get("authorization") !== `Bearer ${env.MESHGATE_ADMIN_TOKEN}`) {
        const err = new GatewayError("unauthenticated", "admin API needs the admin bearer token");
        return new Response(errorBody(err), { status: err.status, headers: { "content-type": "application/json", "www-authenticate": 'Bearer realm="meshgate-admin"' } });
      }
      url.pathname = url.pathname.slice(adminPath.length) || "/";
      return state.admin.fetch(new Request(url, request));
    }
    if (!state.holder.ready) {
      const err = new GatewayError("no_config", "no policy bundle has been published to KV yet");
      return new Response(errorBody(err), { status: err.status, headers: { "content-type": "application/json" } });
    }
    return state.gateway.fetch(request);
  },
};

/** For tests: forget the isolate's state. */
export function resetIsolate(): void {
  isolate = null;
}
