import { parseArgs } from "node:util";
import { normalizeServer } from "../runtime/node/dns-discovery.js";
import { CONNECTION_DEFAULTS, startNodeGateway, type ConnectionLimits, type NodeGateway } from "../runtime/node/gateway-server.js";
import { type ListenerTls } from "../runtime/node/listener-tls.js";
import { parseDuration } from "../policy/duration-text.js";
import { parseByteSize } from "../hygiene/body-limit.js";
import { parseUnderscoreHeaders, parseUntrustedTraceparent } from "../hygiene/hygiene.js";
import { readFileSync } from "node:fs";
import { parsePathRejections } from "../hygiene/normalize-path.js";
import cluster from "node:cluster";
import { parseWorkers, reportReady, runClusterPrimary } from "../runtime/node/cluster.js";
import { jsonLogger } from "../runtime/node/log.js";
import { meshFlags } from "./mesh-flags.js";
import { SERVE_OPTIONS } from "./serve-options.js";
import type { StartedPolicyWorker } from "../runtime/node/policy-worker-start.js";
import type { MeshOptions } from "../routing/mesh.js";

export { SERVE_OPTIONS } from "./serve-options.js";

export function parsePort(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${flag} must be a port number 0-65535, got "${text}"`);
  return n;
}

export function parseCount(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || n < min || n > max) throw new Error(`--${flag} must be a whole number ${min}-${max}, got "${text}"`);
  return n;
}

type ServeValues = ReturnType<typeof parseArgs<{ args: string[]; options: typeof SERVE_OPTIONS; strict: true }>>["values"];

/**
 * `meshgate serve`: runs until SIGTERM/SIGINT, then drains and exits 0. `policyWorker`: the
 * policy worker thread serve-early.ts started for `--policies` before this module loaded.
 */
export async function serveCommand(argv: string[], policyWorker: StartedPolicyWorker | null = null): Promise<number> {
  try {
    return await serve(argv, policyWorker);
  } finally {
    // Never taken over (a bad flag, a cluster primary): a started worker thread keeps the process alive.
    if (policyWorker !== null && !policyWorker.adopted) void policyWorker.worker.terminate();
  }
}

async function serve(argv: string[], policyWorker: StartedPolicyWorker | null): Promise<number> {
  const { values } = parseArgs({ args: argv.map(bareWaitFlag), options: SERVE_OPTIONS, strict: true });
  if (!values.policies === !values.store) throw new Error("serve needs --policies DIR or --store URL (one of them)");
  const workers = parseWorkers(values.workers);
  const mesh = meshFlags(values); // checked before any worker forks
  const graceMs = shutdownGrace(values["shutdown-grace"]);
  // --workers N: this process only forks, serves the merged admin endpoint and drains the workers.
  if (workers > 1 && cluster.isPrimary) return runClusterPrimary({ workers, adminPort: parsePort(values["admin-port"], "admin-port"), adminHost: values["admin-host"], graceMs, log: jsonLogger() });
  const inWorker = cluster.isWorker;
  try {
    return await serveOne(values, inWorker, mesh, graceMs, policyWorker);
  } finally {
    // The IPC channel to the primary would keep a finished (or failed) worker alive.
    if (inWorker) cluster.worker?.disconnect();
  }
}

async function serveOne(values: ServeValues, inWorker: boolean, mesh: MeshOptions, graceMs: number, policyWorker: StartedPolicyWorker | null): Promise<number> {
  // Every flag is checked before anything is opened: a bad flag must not leave a Redis client behind.
  const settings = {
    mesh,
    port: parsePort(values.port, "port"),
    // A worker's own admin API is private to the primary, which serves the one admin endpoint.
    adminPort: inWorker ? 0 : parsePort(values["admin-port"], "admin-port"),
    host: values.host,
    adminHost: inWorker ? "127.0.0.1" : values["admin-host"],
    adminExclusive: inWorker,
    ...(values["admin-token-file"] !== undefined ? { adminToken: readAdminToken(values["admin-token-file"]) } : {}),
    watch: !values["no-watch"],
    allowEmptyReload: values["allow-empty-reload"],
    accessLog: values["access-log"],
    istioMetrics: values["istio-metrics"],
    ...(values["otlp-endpoint"] ? { otlpEndpoint: values["otlp-endpoint"] } : {}),
    ...(values["trusted-proxies"] ? { trustedProxies: values["trusted-proxies"].split(",").map((s) => s.trim()) } : {}),
    connections: connectionLimits(values),
    http2: {
      ...(values["http2-max-concurrent-streams"] !== undefined ? { maxConcurrentStreams: parseCount(values["http2-max-concurrent-streams"], "http2-max-concurrent-streams", 1, 2 ** 31 - 1) } : {}),
      ...(values["http2-max-header-list-size"] !== undefined ? { maxHeaderListSize: headerListSize(values["http2-max-header-list-size"]) } : {}),
      ...(values["http2-max-resets-per-second"] !== undefined ? { maxResetsPerSecond: parseCount(values["http2-max-resets-per-second"], "http2-max-resets-per-second", 1, 1_000_000) } : {}),
    },
    ...(values["headers-with-underscores"] !== undefined ? { underscoreHeaders: parseUnderscoreHeaders(values["headers-with-underscores"], "--headers-with-underscores") } : {}),
    ...(values["untrusted-traceparent"] !== undefined ? { untrustedTraceparent: parseUntrustedTraceparent(values["untrusted-traceparent"], "--untrusted-traceparent") } : {}),
    ...(values["max-body-size"] !== undefined ? { maxRequestBodyBytes: flagSize(values["max-body-size"], "max-body-size") } : {}),
    ...discoveryOptions(values["service-discovery"], values["dns-server"]),
    ...tlsOptions(values),
    ...(values["path-reject"] !== undefined ? { pathNormalization: parsePathRejections(values["path-reject"]) } : {}),
    ...(values["ratelimit-local-keys"] !== undefined ? { rateLimitLocalKeys: parseCount(values["ratelimit-local-keys"], "ratelimit-local-keys", 1, 10_000_000) } : {}),
    ...(values["wait-for-config"] !== undefined ? { waitForConfigMs: parseWait(values["wait-for-config"]) } : {}),
  };
  const redisDefault = values.store?.startsWith("redis") ? values.store : undefined;
  const keyStoreUrl = redisUrl(values["key-store"] ?? redisDefault, "key-store");
  const rateLimitUrl = redisUrl(values["ratelimit-store"] ?? redisDefault, "ratelimit-store");
  // ioredis and the config stores load only when a flag asks for them: most gateways serve a
  // policy directory and should not spend start-up time compiling modules they never run.
  const targets = values.store !== undefined ? await import("./targets.js") : null;
  const keyStores = keyStoreUrl !== undefined ? await import("../runtime/node/redis-key-store.js") : null;
  const limiterStores = rateLimitUrl !== undefined ? await import("../runtime/node/redis-limiter-store.js") : null;
  // From here on the gateway owns what is opened, and closes all of it if its start fails.
  const opened: { close?(): Promise<void> }[] = [];
  const open = <T extends { close?(): Promise<void> }>(make: () => T): T => {
    const r = make();
    opened.push(r);
    return r;
  };
  let gateway: NodeGateway;
  try {
    gateway = await startNodeGateway({
      ...settings,
      ...(values.policies ? { policies: values.policies, policyWorker: policyWorker?.first?.dir === values.policies ? policyWorker : null } : { store: open(() => targets!.configStore(values.store!, values.prefix)) }),
      ...(keyStoreUrl !== undefined ? { apiKeyStore: open(() => new keyStores!.RedisApiKeyStore(keyStoreUrl, values.prefix ?? "meshgate")) } : {}),
      ...(rateLimitUrl !== undefined ? { rateLimitStore: open(() => new limiterStores!.RedisLimiterStore(rateLimitUrl, values.prefix ?? "meshgate")) } : {}),
    });
  } catch (err) {
    // startNodeGateway closes what it was given; this also covers a constructor that threw before it (closing twice is harmless).
    await Promise.all(opened.map((r) => r.close?.().catch(() => undefined)));
    throw err;
  }
  if (inWorker) reportReady(gateway.adminPort);
  await untilSignal(gateway, undefined, graceMs);
  return 0;
}

/** --service-discovery off|dns and --dns-server HOST:PORT (checked now, so a typo fails at start). */
export function discoveryOptions(mode: string, server: string | undefined): { serviceDiscovery?: "dns"; dnsServer?: string } {
  if (mode !== "off" && mode !== "dns") throw new Error(`--service-discovery must be off or dns, got "${mode}"`);
  if (server !== undefined && mode !== "dns") throw new Error("--dns-server needs --service-discovery dns");
  if (mode === "off") return {};
  return { serviceDiscovery: "dns", ...(server !== undefined ? { dnsServer: normalizeServer(server) } : {}) };
}

/** --shutdown-grace: how long SIGTERM waits for in-flight requests before closing what is left. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 8_000;

export function shutdownGrace(text: string | undefined): number {
  if (text === undefined) return DEFAULT_SHUTDOWN_GRACE_MS;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    throw new Error(`--shutdown-grace must be a duration such as 8s or 500ms, got "${text}"`);
  }
  if (ms > 3_600_000) throw new Error(`--shutdown-grace must be at most 1h, got "${text}"`);
  return ms;
}

/** parseArgs has no optional values: a bare --wait-for-config becomes --wait-for-config= (no deadline). */
function bareWaitFlag(arg: string): string {
  return arg === "--wait-for-config" ? "--wait-for-config=" : arg;
}

/** --wait-for-config[=DURATION]: how long to wait for a first config; "" (bare flag) = no deadline (0). */
export function parseWait(text: string): number {
  if (text === "") return 0;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    throw new Error(`--wait-for-config takes a duration such as 30s or 5m (or nothing: wait as long as it takes), got "${text}"`);
  }
  if (ms === 0) throw new Error("--wait-for-config=0s would not wait at all; leave the flag out, or give a duration such as 30s");
  return ms;
}

/** Resolves after a termination signal has drained the gateway (what is still open after `graceMs` is closed). */
export function untilSignal(gateway: NodeGateway, onClose?: () => Promise<void>, graceMs = DEFAULT_SHUTDOWN_GRACE_MS): Promise<void> {
  return new Promise((resolve) => {
    let closing = false;
    const stop = (signal: string) => {
      if (closing) return;
      closing = true;
      process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: "info", message: `received ${signal}; draining (up to ${graceMs} ms)` })}\n`);
      // Closing after the grace takes a moment (admin, transports, stores): exit regardless soon after.
      const hardStop = setTimeout(() => process.exit(0), graceMs + 1_500);
      hardStop.unref();
      gateway
        .close(graceMs)
        .then(() => onClose?.())
        .finally(() => resolve());
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}

/** --headers-timeout, --request-timeout, --keepalive-timeout, --max-connections over the bounded defaults. */
export function connectionLimits(values: { "headers-timeout"?: string | undefined; "request-timeout"?: string | undefined; "keepalive-timeout"?: string | undefined; "max-connections"?: string | undefined }): ConnectionLimits {
  const duration = (flag: string, text: string | undefined, fallback: number, zeroAllowed: boolean): number => {
    if (text === undefined) return fallback;
    let ms: number;
    try {
      ms = parseDuration(text);
    } catch {
      throw new Error(`--${flag} must be a duration such as 10s or 500ms, got "${text}"`);
    }
    if (ms === 0 && !zeroAllowed) throw new Error(`--${flag} must be above 0`);
    return ms;
  };
  const headersTimeoutMs = duration("headers-timeout", values["headers-timeout"], CONNECTION_DEFAULTS.headersTimeoutMs, false);
  const requestTimeoutMs = duration("request-timeout", values["request-timeout"], CONNECTION_DEFAULTS.requestTimeoutMs, true);
  const keepAliveTimeoutMs = duration("keepalive-timeout", values["keepalive-timeout"], CONNECTION_DEFAULTS.keepAliveTimeoutMs, false);
  if (requestTimeoutMs > 0 && requestTimeoutMs < headersTimeoutMs) throw new Error("--request-timeout must be at least --headers-timeout (or 0s for none)");
  const max = values["max-connections"] ?? String(CONNECTION_DEFAULTS.maxConnections);
  const maxConnections = Number(max);
  if (!/^[0-9]+$/.test(max) || !Number.isSafeInteger(maxConnections) || maxConnections < 1) throw new Error(`--max-connections must be a whole number above 0, got "${max}"`);
  return { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxConnections };
}

/** --http2-max-header-list-size: a byte size from 1 KiB (no real request fits in less) to 16 MiB. */
function headerListSize(text: string): number {
  const n = flagSize(text, "http2-max-header-list-size");
  if (n < 1024 || n > 16 * 1024 * 1024) throw new Error(`--http2-max-header-list-size must be 1Ki-16Mi, got "${text}"`);
  return n;
}

function flagSize(text: string, flag: string): number {
  try {
    return parseByteSize(text);
  } catch (err) {
    throw new Error(`--${flag}: ${(err as Error).message}`);
  }
}

/** The admin bearer token: the file's content without surrounding whitespace (a Secret volume's trailing newline). */
function readAdminToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch (err) {
    throw new Error(`--admin-token-file ${file}: ${(err as Error).message}`);
  }
  if (text.length < 16) throw new Error(`--admin-token-file ${file}: the token must be at least 16 characters`);
  return text;
}

function tlsOptions(values: { "tls-cert"?: string | undefined; "tls-key"?: string | undefined; "client-ca"?: string | undefined; "client-auth"?: string | undefined }): { tls?: ListenerTls } {
  const { "tls-cert": cert, "tls-key": key, "client-ca": ca, "client-auth": mode } = values;
  if (cert === undefined && key === undefined) {
    if (ca !== undefined || mode !== undefined) throw new Error("--client-ca and --client-auth need --tls-cert and --tls-key");
    return {};
  }
  if (cert === undefined || key === undefined) throw new Error("HTTPS needs both --tls-cert and --tls-key");
  if (mode !== undefined && mode !== "strict" && mode !== "permissive") throw new Error(`--client-auth must be strict or permissive, got "${mode}"`);
  if (mode !== undefined && ca === undefined) throw new Error("--client-auth needs --client-ca (the CAs client certificates are verified against)");
  const read = (file: string, flag: string) => {
    try {
      return readFileSync(file, "utf8");
    } catch (err) {
      throw new Error(`--${flag} ${file}: ${(err as Error).message}`);
    }
  };
  const load = (): ListenerTls => ({ cert: read(cert, "tls-cert"), key: read(key, "tls-key"), ...(ca ? { clientCa: read(ca, "client-ca"), clientAuth: (mode ?? "permissive") as "strict" | "permissive" } : {}) });
  // Re-read on a timer: cert-manager and kubelet rotate the files in place.
  return { tls: { ...load(), reload: load } };
}

function redisUrl(url: string | undefined, flag: string): string | undefined {
  if (url === undefined) return undefined;
  if (!url.startsWith("redis://") && !url.startsWith("rediss://")) throw new Error(`--${flag} must be a redis:// URL, got "${url}"`);
  return url;
}
