import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Server as NetServer, Socket } from "node:net";
import type { Server as TlsServer } from "node:tls";
import { OtlpExporter } from "../../telemetry/otlp-exporter.js";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { adminApp } from "../../admin/admin-app.js";
import type { ConfigStore } from "../../config/config-store.js";
import { PreparedSnapshotHolder as SnapshotHolder } from "../../config/prepared-snapshot-holder.js";
import { GatewayError, errorBody } from "../../http/gateway-error.js";
import { createPipeline } from "../../pipeline.js";
import type { Snapshot } from "../../snapshot/snapshot.js";
import { GatewayMetrics } from "../../telemetry/gateway-metrics.js";
import { Counter } from "../../telemetry/metrics.js";
import { jsonLogger, type Logger } from "./log.js";
import { dnsDiscovery } from "./dns-wiring.js";
import type { DnsDiscoveryOptions } from "./dns-discovery.js";
import { nodeHandler, writeError } from "./node-handler.js";
import { upgradeHandler } from "./upgrade-handler.js";
import { watchPolicyDir, type DirWatcher } from "./dir-watcher.js";
import { dirReloader, storeReloader, type ReloadProblem } from "./reloaders.js";
import { policyReader } from "./policy-reader.js";
import type { StartedPolicyWorker } from "./policy-worker-start.js";
import { firstConfigError, listenError } from "./startup-error.js";
import { formatDuration } from "../../policy/duration-text.js";
import { NodeTransport } from "./node-transport.js";
import { HealthChecker } from "./health-checker.js";
import { UpstreamState } from "../../upstream/upstream-state.js";
import { systemClock } from "../../http/runtime-env.js";
import { JwksRegistry } from "../../identity/jwks-registry.js";
import type { ApiKeyStore } from "../../identity/api-keys.js";
import { nodeJwksFetcher } from "./jwks-fetcher.js";
import { watchTls } from "./tls-rotation.js";
import { openAccessLog } from "./access-log-writer.js";
import { poolKey } from "../../upstream/transport.js";
import { variantsOf } from "../../upstream/backend-port.js";
import { pathRejectionWarning, type PathNormalizationOptions } from "../../hygiene/normalize-path.js";
import type { UnderscoreHeaders } from "../../hygiene/hygiene.js";
import type { LimiterStore } from "../../ratelimit/limiter-store.js";
import { ListenerTls } from "./listener-tls.js";
import type { MeshOptions } from "../../routing/mesh.js";
import { createFrontServer } from "./listener.js";
import { HTTP2_DEFAULTS, createGatewayHttp2Server, type Http2Limits } from "./http2-server.js";
import { h2Handler } from "./h2-handler.js";

export interface NodeGatewayOptions {
  /** Directory (or single file) of policy documents; or give `store`. */
  readonly policies?: string;
  /** The policy worker thread, started before the gateway's modules loaded (policy-worker-start.ts); its first read is `policies`'. */
  readonly policyWorker?: StartedPolicyWorker | null;
  /** A store of published bundles (Redis, file) instead of a policy directory. */
  readonly store?: ConfigStore;
  readonly port: number;
  readonly adminPort: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Where the admin API listens; default 127.0.0.1 whatever `host` is (it has /config, /explain, /metrics). */
  readonly adminHost?: string;
  /** A `--workers` worker's own admin port: not shared through the cluster primary. */
  readonly adminExclusive?: boolean;
  /** Bearer token the admin API requires (except /ready and /healthz). */
  readonly adminToken?: string;
  /** Header names with "_": see HygieneOptions. Default "drop-trusted". */
  readonly underscoreHeaders?: UnderscoreHeaders;
  /** A traceparent from an untrusted peer: "restart" (default) or "continue". */
  readonly untrustedTraceparent?: "restart" | "continue";
  /** Request body limit in bytes for rules whose TrafficPolicy sets none; 0 = none. Default 10 MiB. */
  readonly maxRequestBodyBytes?: number;
  /** Client connections: how long slow or idle clients may hold one, and how many there may be. */
  readonly connections?: ConnectionLimits;
  /** HTTP/2 from clients (h2c on the plain port, h2 by ALPN on TLS): stream and header limits, rapid-reset guard. */
  readonly http2?: Http2Limits;
  readonly trustedProxies?: readonly string[];
  /** Apply a policy-directory reload that leaves no route, or empties a file that had documents (refused by default: a torn write). */
  readonly allowEmptyReload?: boolean;
  /** Watch the policy directory and hot-reload. Default true. */
  readonly watch?: boolean;
  readonly logger?: Logger;
  /** "stdout" (default), "off", or a file path: one JSON line per request. */
  readonly accessLog?: string;
  /** OTLP/HTTP collector base URL; spans are exported when set. */
  readonly otlpEndpoint?: string;
  /** Also emit Istio's standard metrics (istio_requests_total, ...). */
  readonly istioMetrics?: boolean;
  /** Which path spellings answer 400 instead of being normalized (default: all of them). */
  readonly pathNormalization?: PathNormalizationOptions;
  /** Serve HTTPS (and verify client certificates when `clientCa` is given). */
  readonly tls?: ListenerTls;
  /** The global rate-limit store (`store: global` policies), e.g. a RedisLimiterStore. */
  readonly rateLimitStore?: LimiterStore & { close?(): Promise<void> };
  /** Buckets the in-process rate-limit store holds (default 100,000); live buckets are never evicted. */
  readonly rateLimitLocalKeys?: number;
  /**
   * No config at start (store down or empty, directory missing, policies invalid): retry for this
   * long (0: forever) with /ready 503 and the data plane 503 no_config, instead of failing at once.
   */
  readonly waitForConfigMs?: number;
  /** Per-key API key lookups (`apiKey.keyStore: true` policies). */
  readonly apiKeyStore?: ApiKeyStore & { close?(): Promise<void> };
  /** `dns`: Services without a Backend document are found by DNS (`S.N.svc.<cluster-domain>`). Default off. */
  readonly serviceDiscovery?: "off" | "dns";
  /** The DNS server discovery asks (`HOST:PORT`); default the system's. */
  readonly dnsServer?: string;
  /** Discovery's DNS suffix (default cluster.local). */
  readonly discoveryDomain?: string;
  /** Resolver timings (tests shorten them; production keeps the 5–30 s TTL bounds). */
  readonly dnsTimings?: Pick<DnsDiscoveryOptions, "minTtlMs" | "maxTtlMs" | "timeoutMs" | "retryMs">;
  /** The gateway's namespace and cluster domain for mesh authorities (default: default, cluster.local). */
  readonly mesh?: MeshOptions;
}

export interface ConnectionLimits {
  /** Until the request headers are complete (408, then close). Default 10 s. */
  readonly headersTimeoutMs?: number;
  /** Until the whole request, body included, was received (408 or close). Default 60 s; 0 = none. */
  readonly requestTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this. Default 65 s (longer than common load balancers' 60 s). */
  readonly keepAliveTimeoutMs?: number;
  /** Client connections at once; new ones beyond are closed at once. Default 10,000. */
  readonly maxConnections?: number;
}

/** The defaults, bounded: a client trickling its headers a byte a second is gone after 10 s. */
export const CONNECTION_DEFAULTS = { headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 65_000, maxConnections: 10_000 } as const;

export interface NodeGateway {
  readonly port: number;
  readonly adminPort: number;
  readonly holder: SnapshotHolder;
  readonly metrics: GatewayMetrics;
  readonly upstreams: UpstreamState;
  /** Re-reads the policy directory now; resolves when the swap (or refusal) is done. */
  reload(): Promise<void>;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Starts the data plane and the admin API on Node. Rejects (with a StartupError saying what to do)
 * when a listener cannot bind or no first config can be loaded, after closing everything the
 * start opened, the stores it was given included: a half-started gateway must not keep the
 * process alive (a Redis client reconnecting forever, a listener, a watcher).
 */
export async function startNodeGateway(options: NodeGatewayOptions): Promise<NodeGateway> {
  const opened: (() => unknown)[] = [];
  for (const resource of [options.store, options.apiKeyStore, options.rateLimitStore]) if (resource?.close) opened.push(() => resource.close!());
  try {
    return await startGateway(options, opened);
  } catch (err) {
    for (const close of opened.reverse()) await Promise.resolve().then(close).catch(() => undefined);
    throw err;
  }
}

/** The start itself; everything it opens is pushed on `opened` (closed in reverse if it fails). */
async function startGateway(options: NodeGatewayOptions, opened: (() => unknown)[]): Promise<NodeGateway> {
  const startedAt = Date.now();
  const log = options.logger ?? jsonLogger();
  const host = options.host ?? "127.0.0.1";
  const metrics = new GatewayMetrics({ istio: options.istioMetrics === true });
  const transport = new NodeTransport();
  const upstreams = new UpstreamState(systemClock);
  const healthChecker = new HealthChecker(upstreams.health);
  opened.push(() => transport.close(), () => healthChecker.stop());
  // Discovered addresses change between reloads: pools and health checks follow them.
  const discovery = options.serviceDiscovery === "dns" ? dnsDiscovery({ ...options.dnsTimings, ...(options.dnsServer !== undefined ? { server: options.dnsServer } : {}), ...(options.discoveryDomain !== undefined || options.mesh !== undefined ? { clusterDomain: options.discoveryDomain ?? options.mesh!.clusterDomain } : {}) }, log, metrics.registry, () => {
    if (!holder.ready) return;
    transport.retain(originsOf(holder.current()));
    healthChecker.apply(holder.current());
  }) : null;
  if (discovery !== null) opened.push(() => discovery.close());
  // Files can be caught half-written; a published bundle is whole by construction.
  // A store's bundles are parsed here; policy files are prepared by the worker, so only then is the parser loaded.
  const compileSources = options.store ? (await import("../../snapshot/compile-snapshot.js")).compileSnapshot : undefined;
  const holder = new SnapshotHolder({ ...(compileSources !== undefined ? { compileSources } : {}), refuseEmptyReload: !options.store && options.allowEmptyReload !== true, compile: { discovery, serviceBindings: "refuse", http2Upstreams: "allow", ...(options.mesh ? { mesh: options.mesh } : {}) } });
  let draining = false;
  const jwks = new JwksRegistry(nodeJwksFetcher, Date.now, (err, context) => log("warn", `${context}: fetch failed`, { error: err instanceof Error ? err.message : String(err), ...causeOf(err) }));
  let prepare: ((s: Snapshot) => void) | null = null;

  // Policy files are read, parsed and validated on a worker thread; a held shrink asks for a reload later.
  const reader = options.store ? null : policyReader(options.policyWorker ?? null);
  if (reader !== null) opened.push(() => reader.close());
  let heldTimer: NodeJS.Timeout | null = null;
  const later = (ms: number) => {
    if (heldTimer !== null) clearTimeout(heldTimer);
    heldTimer = setTimeout(() => {
      heldTimer = null;
      void queueReload(true);
    }, ms);
    heldTimer.unref();
  };
  opened.push(() => heldTimer !== null && clearTimeout(heldTimer));
  const reload = options.store || reader === null ? storeReloader(options.store!, holder, metrics, log) : dirReloader(policyDir(options), holder, metrics, log, reader, later);

  holder.onSwap((s: Snapshot) => {
    discovery?.retain(s.discoveredHostnames ?? []);
    metrics.swapped(s);
    transport.retain(originsOf(s));
    healthChecker.apply(s);
    prepare?.(s);
    log("info", "configuration loaded", { version: s.version, routes: s.counts.routes, rules: s.counts.rules, backends: s.counts.backends });
    for (const w of s.warnings) log(w.severity === "info" ? "info" : "warn", w.severity === "info" ? "policy note" : "policy warning", { file: w.file, document: w.index, field: w.path.join("."), message: w.message });
    // A global limit without a global store answers by failureMode on every request: say so once, now.
    if (!options.rateLimitStore) {
      const globals = new Set(s.routes.entries.map((e) => e.rule.rateLimit).filter((p) => p !== null && p.store !== "local"));
      for (const p of globals) log("warn", `RateLimitPolicy uses store: ${p!.store}, but this gateway has no such store (serve --ratelimit-store redis://...); every decision will fail ${p!.failureMode}`, { policy: p!.name });
    }
    // A policy that needs client certificates on a listener that never asks for them refuses everyone.
    if (!options.tls?.clientCa) {
      for (const p of s.securityPolicies) {
        const cc = p.spec.clientCertificate;
        if (cc?.required && cc.forwardedCertificateFrom.length === 0) log("warn", "SecurityPolicy requires client certificates, but this listener does not ask for them (serve --client-ca); its routes will answer 401", { policy: p.name });
      }
    }
  });

  metrics.watchUpstreams(upstreams);
  const connectionsDropped = metrics.registry.register(new Counter("meshgate_downstream_connections_dropped_total", "Client connections closed on arrival because --max-connections were open."));
  const http2Floods = metrics.registry.register(new Counter("meshgate_downstream_http2_reset_floods_total", "HTTP/2 client connections closed (GOAWAY ENHANCE_YOUR_CALM) for resetting streams faster than --http2-max-resets-per-second."));
  const accessLog = openAccessLog(options.accessLog ?? "stdout");
  const tracer = options.otlpEndpoint ? new OtlpExporter({ endpoint: options.otlpEndpoint, onError: (err) => log("warn", "span export failed", { error: String(err) }) }) : null;
  const flushTimer = tracer ? setInterval(() => void tracer.flush(), 1_000) : null;
  flushTimer?.unref();
  if (flushTimer) opened.push(() => clearInterval(flushTimer));
  const pipeline = createPipeline({
    snapshot: () => holder.current(),
    transport,
    upstreams,
    ...(tracer ? { tracer } : {}),
    observe: (o) => {
      metrics.observe(o);
      accessLog?.(o);
    },
    onError: (err, context) => log("error", `${context} failed`, { error: err instanceof Error ? err.message : String(err) }),
    jwks,
    apiKeyStore: options.apiKeyStore ?? null,
    limiters: { global: options.rateLimitStore ?? null, localMaxKeys: options.rateLimitLocalKeys },
    ...(options.pathNormalization ? { pathNormalization: options.pathNormalization } : {}),
    ...(options.trustedProxies ? { trustedProxies: options.trustedProxies } : {}),
    ...(options.maxRequestBodyBytes !== undefined ? { maxRequestBodyBytes: options.maxRequestBodyBytes } : {}),
    ...(options.underscoreHeaders !== undefined ? { underscoreHeaders: options.underscoreHeaders } : {}),
    ...(options.untrustedTraceparent !== undefined ? { untrustedTraceparent: options.untrustedTraceparent } : {}),
  });

  // The first config (loaded once the listeners are up) is prepared on its swap like any other.
  prepare = (s) => pipeline.prepare(s);

  const limits = { ...CONNECTION_DEFAULTS, ...options.connections };
  const serverOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often Node looks for connections past those timeouts (its default, 30 s, would triple them).
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
    // Answered by the gateway (400 bad_request as JSON), HTTP/1.0 included.
    requireHostHeader: false,
  };
  const tls = options.tls;
  // One port, two protocols: the front socket hands each connection to the HTTP/1.1 server (with
  // the timeouts above) or the HTTP/2 server, by the h2c preface or by ALPN.
  const server: Server = createServer(serverOptions);
  const h2 = createGatewayHttp2Server(options.http2 ?? {}, (session) => {
    http2Floods.inc([]);
    log("warn", "HTTP/2 client reset streams faster than --http2-max-resets-per-second; connection closed", { client: session.socket?.remoteAddress ?? "" });
  });
  const front: NetServer | TlsServer = createFrontServer({ http1: server, http2: h2.server, headersTimeoutMs: limits.headersTimeoutMs, onSilent: answerSilent, ...(tls ? { tls } : {}) });
  front.maxConnections = limits.maxConnections;
  front.on("drop", () => connectionsDropped.inc([]));
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    // A request already in the handler (a body arriving too slowly) has its own response under
    // way: closing the connection is the only answer that cannot garble it.
    const inFlight = (socket as { _httpMessage?: unknown })._httpMessage;
    // TLS failures (handshake timeout, bad ClientHello) arrive here too, on a socket that cannot
    // carry an HTTP answer: writing one would wait forever for a handshake that never comes.
    if (!socket.writable || inFlight || isTlsFailure(err)) return socket.destroy();
    const e = clientErrorOf(err);
    const body = JSON.stringify({ error: { code: e.code, message: e.message } });
    socket.end(`HTTP/1.1 ${e.status} ${STATUS_TEXT[e.status] ?? "Bad Request"}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
  await listen(front, options.port, host).catch((err: NodeJS.ErrnoException) => {
    throw listenError(err, tls ? "HTTPS traffic" : "traffic", host, options.port, { port: "--port", host: "--host" });
  });
  // The front socket closes once every connection it handed to the HTTP/1.1 and HTTP/2 servers is gone.
  opened.push(() => {
    server.closeAllConnections();
    server.close(() => undefined);
    for (const session of h2.sessions) session.destroy();
    return closeServer(front);
  });
  const tlsTimer = tls?.reload ? watchTls(front as TlsServer, tls, log) : null;
  if (tlsTimer) opened.push(() => clearInterval(tlsTimer));
  const port = (front.address() as AddressInfo).port;
  const clientCertificates = tls?.clientCa !== undefined;
  const handler = nodeHandler(pipeline, { scheme: tls ? "https" : "http", listenerPort: port, clientCertificates });
  const handleH2 = h2Handler(pipeline, { scheme: tls ? "https" : "http", listenerPort: port, clientCertificates, maxHeaderListSize: options.http2?.maxHeaderListSize ?? HTTP2_DEFAULTS.maxHeaderListSize });
  h2.server.on("request", (req, res) => {
    if (!holder.ready) {
      res.writeHead(503, { "content-type": "application/json" }).end(errorBody(new GatewayError("no_config", "no configuration loaded yet")));
      return;
    }
    try {
      handleH2(req, res);
    } catch (err) {
      log("error", "request handler failed", { error: (err as Error).message });
      if (!res.headersSent) res.writeHead(500).end();
    }
  });
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (draining) res.shouldKeepAlive = false;
    // Listening before the first config (--wait-for-config): refuse, as /ready says.
    if (!holder.ready) return writeError(res, new GatewayError("no_config", "no configuration loaded yet"));
    try {
      handler(req, res);
    } catch (err) {
      log("error", "request handler failed", { error: (err as Error).message });
      writeError(res, new GatewayError("internal", "internal gateway error"));
    }
  };
  server.on("request", onRequest);
  // Upgrade requests the gateway does not relay are parsed again here, without their upgrade,
  // and served as the plain requests they also are (as before the 'upgrade' listener existed).
  const plainServer = createServer(serverOptions);
  plainServer.on("request", onRequest);
  const upgrades = upgradeHandler(pipeline, {
    scheme: tls ? "https" : "http",
    listenerPort: port,
    clientCertificates,
    metrics,
    plain: (socket, replay) => {
      socket.unshift(replay);
      plainServer.emit("connection", socket);
    },
  });
  opened.push(() => {
    plainServer.closeAllConnections();
    upgrades.closeAll();
  });
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    try {
      upgrades(req, socket, head);
    } catch (err) {
      log("error", "upgrade handler failed", { error: (err as Error).message });
      socket.destroy();
    }
  });

  const admin = createAdaptorServer({ fetch: adminApp({ ...(options.adminToken !== undefined ? { token: options.adminToken } : {}), holder, metrics: metrics.registry, gatewayMetrics: metrics, draining: () => draining, upstreams, ...(discovery !== null ? { discovery: () => discovery.status() } : {}), security: { jwks, apiKeyStore: options.apiKeyStore ?? null, now: Date.now } }).fetch }) as Server;
  const adminHost = options.adminHost ?? "127.0.0.1";
  await listen(admin, options.adminPort, adminHost, options.adminExclusive ?? false).catch((err: NodeJS.ErrnoException) => {
    throw listenError(err, "the admin API", adminHost, options.adminPort, { port: "--admin-port", host: "--admin-host" });
  });
  opened.push(() => closeServer(admin));
  if (!isLoopback(adminHost) && options.adminToken === undefined) log("warn", `admin API on ${adminHost} without --admin-token-file: /config, /explain and /metrics are open to anyone who can reach it`);
  const pathWarning = options.pathNormalization ? pathRejectionWarning(options.pathNormalization) : null;
  if (pathWarning !== null) log("warn", `--path-reject: ${pathWarning}`);
  const adminPort = (admin.address() as AddressInfo).port;

  let watcher: DirWatcher | null = null;
  let tail: Promise<ReloadProblem | null> = Promise.resolve(null);
  let waiting: Promise<ReloadProblem | null> | null = null;
  let waitingFull = false;
  // One reload runs at a time and at most one waits behind it: it reads every change made so far.
  // `full` false (the poll) may answer from file stats; any full request makes the waiting one full.
  const queueReload = (full = true): Promise<ReloadProblem | null> => {
    if (full) waitingFull = true;
    if (waiting !== null) return waiting;
    const next = tail.then(() => {
      waiting = null;
      const readAll = waitingFull;
      waitingFull = false;
      return reload(readAll);
    });
    waiting = tail = next;
    return next;
  };
  // Listeners first: a port in use fails the start before any config is read, and with
  // --wait-for-config /ready can answer 503 while the first config is awaited.
  const first = await queueReload();
  if (first !== null && options.waitForConfigMs === undefined) throw firstConfigError(first, null);
  if (options.watch !== false) {
    if (options.store?.watch) {
      const stop = options.store.watch(() => void queueReload());
      watcher = { close: stop };
    } else if (reader !== null) watcher = watchPolicyDir(policyDir(options), (reason) => void queueReload(reason === "event"), { onEvent: () => reader.touched() });
    const w = watcher;
    if (w) opened.push(() => w.close());
  }
  if (first !== null) await waitForFirstConfig(first, options.waitForConfigMs ?? 0, () => queueReload());

  log("info", "meshgate listening", { host, port, adminHost, adminPort, config: options.store?.description ?? options.policies });
  return {
    port,
    adminPort,
    holder,
    metrics,
    upstreams,
    reload: async () => void (await queueReload()),
    async close(graceMs = 8_000) {
      draining = true;
      watcher?.close();
      if (heldTimer !== null) clearTimeout(heldTimer);
      await reader?.close();
      healthChecker.stop();
      discovery?.close();
      if (flushTimer) clearInterval(flushTimer);
      if (tlsTimer) clearInterval(tlsTimer);
      // The front socket stops accepting and closes once every connection it handed out is gone.
      const closed = new Promise<void>((resolve) => front.close(() => resolve()));
      // Stops the HTTP/1.1 server's timers; it never listened, so its own close has nothing else to do.
      server.close(() => undefined);
      // Connections still busy now become idle one by one as their responses finish; HTTP/2
      // clients get GOAWAY and keep the streams they have.
      server.closeIdleConnections();
      for (const s of h2.sessions) s.close();
      const plainClosed = new Promise<void>((resolve) => plainServer.close(() => resolve()));
      const sweep = setInterval(() => {
        server.closeIdleConnections();
        plainServer.closeIdleConnections();
      }, 50);
      // WebSocket connections have no idle moment to wait for: they get the grace period, then are cut.
      const timer = setTimeout(() => {
        server.closeAllConnections();
        plainServer.closeAllConnections();
        upgrades.closeAll();
        for (const s of h2.sessions) s.destroy();
      }, graceMs);
      await closed;
      await plainClosed;
      clearInterval(sweep);
      clearTimeout(timer);
      admin.closeAllConnections?.();
      await new Promise<void>((resolve) => admin.close(() => resolve()));
      await transport.close();
      await tracer?.flush();
      await options.store?.close?.();
      await options.apiKeyStore?.close?.();
      await options.rateLimitStore?.close?.();
    },
  };

  /** --wait-for-config: retry every second, say so every 5 s, give up `waitMs` after the start began (0: never). */
  function waitForFirstConfig(first: ReloadProblem, waitMs: number, retry: () => Promise<ReloadProblem | null>): Promise<void> {
    const source = options.store?.description ?? options.policies;
    let problem = first;
    let stopped = false;
    return new Promise<void>((resolve, reject) => {
      const say = () => {
        const left = waitMs > 0 ? `; giving up in ${Math.max(0, Math.ceil((startedAt + waitMs - Date.now()) / 1_000))}s` : "";
        log("warn", `waiting for a first configuration (--wait-for-config): ${problem.problem.split("\n")[0]}; /ready answers 503 meanwhile${left}`, { source, waitedMs: Math.round(Date.now() - startedAt) });
      };
      const talk = setInterval(say, 5_000);
      // A read can take seconds while a store is down: the deadline does not wait for it.
      const deadline = waitMs > 0 ? setTimeout(() => stop(firstConfigError(problem, formatDuration(waitMs))), Math.max(0, startedAt + waitMs - Date.now())) : null;
      const unsubscribe = holder.onSwap(() => stop(null));
      const stop = (err: Error | null) => {
        if (stopped) return;
        stopped = true;
        clearInterval(talk);
        if (deadline) clearTimeout(deadline);
        unsubscribe();
        if (err) reject(err);
        else resolve();
      };
      say();
      void (async () => {
        while (!stopped && !holder.ready) {
          await new Promise((r) => setTimeout(r, 1_000));
          if (stopped) return;
          problem = (await retry()) ?? problem;
        }
        stop(null);
      })();
    });
  }
}

/** undici's "fetch failed" says nothing: the cause (ECONNREFUSED, a certificate error…) is what to act on. */
export function causeOf(err: unknown): { cause?: string } {
  const cause = (err as { cause?: unknown } | null)?.cause;
  if (cause === undefined || cause === null) return {};
  if (!(cause instanceof Error)) return { cause: String(cause) };
  const code = (cause as NodeJS.ErrnoException).code;
  return { cause: code !== undefined && !cause.message.includes(code) ? `${code}: ${cause.message}` : cause.message };
}

function closeServer(server: { close(callback: () => void): unknown; closeAllConnections?(): void }): Promise<void> {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

function policyDir(options: NodeGatewayOptions): string {
  if (options.policies === undefined) throw new Error("give a policy directory or a config store");
  return options.policies;
}

function originsOf(s: Snapshot): Set<string> {
  const out = new Set<string>();
  for (const base of s.backends.values()) for (const b of [base, ...variantsOf(base)]) for (const e of b.endpoints) out.add(poolKey(e.origin, b.tls, b.connection, b.protocol));
  return out;
}

const STATUS_TEXT: Record<number, string> = { 400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large" };

/** What Node's HTTP parser or its timeouts refused, as the gateway's error. */
function clientErrorOf(err: NodeJS.ErrnoException): GatewayError {
  if (err.code === "HPE_HEADER_OVERFLOW") return new GatewayError("headers_too_large", "request headers too large");
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") return new GatewayError("client_timeout", "the request was not received in time");
  return new GatewayError("bad_request", "malformed HTTP request");
}

/** A connection that sent nothing within the headers timeout gets what a slow HTTP/1.1 client gets: 408. */
function answerSilent(socket: Socket): void {
  const e = new GatewayError("client_timeout", "the request was not received in time");
  const body = JSON.stringify({ error: { code: e.code, message: e.message } });
  socket.end(`HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  socket.destroySoon();
}

function isTlsFailure(err: NodeJS.ErrnoException): boolean {
  return /^ERR_(TLS|SSL)_/.test(err.code ?? "") || "library" in err;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

function listen(server: NetServer, port: number, host: string, exclusive = false): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host, exclusive }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
