import { grpcStatusOfResponse, isGrpcRequest } from "../http/grpc.js";
import type { RequestOutcome } from "./request-outcome.js";
import type { Snapshot } from "../snapshot/snapshot.js";
import type { UpstreamState } from "../upstream/upstream-state.js";
import { Counter, Gauge, Histogram, Registry, type CounterSeries, type HistogramSeries } from "./metrics.js";
import { RateWindow } from "./rate-window.js";

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const MILLISECONDS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
const BYTES = [128, 1024, 8192, 65536, 524288, 4194304, 33554432];

export interface GatewayMetricsOptions {
  /** Also emit istio_requests_total & co. with Istio's standard labels, so existing dashboards work. */
  readonly istio?: boolean;
  /** source_workload label in Istio mode. Default "meshgate". */
  readonly workload?: string;
  /** Milliseconds for the dashboard's last-minute rates. Default performance.now. */
  readonly now?: () => number;
}

/** One route's traffic to one backend. */
export interface RouteTraffic {
  requests: number;
  /** 4xx answers. */
  clientErrors: number;
  /** 5xx answers. */
  errors: number;
  seconds: number;
  readonly lastMinute: RateWindow;
}

/**
 * The series one route's traffic to one backend records into, looked up once and kept: a
 * request then costs a few short map lookups instead of joining label values into keys for
 * every metric it touches.
 */
interface RouteSeries {
  readonly duration: HistogramSeries;
  readonly responseBytes: HistogramSeries;
  readonly traffic: RouteTraffic;
  /** By endpoint, status code, response flag. */
  readonly requests: Map<string, Map<number, Map<string, CounterSeries>>>;
}

function cached<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = make()));
  return value;
}

const ISTIO_LABELS = [
  "reporter", "source_workload", "source_workload_namespace", "source_principal", "destination_workload", "destination_workload_namespace",
  "destination_service", "destination_service_name", "destination_service_namespace", "destination_cluster", "request_protocol", "response_code", "response_flags", "connection_security_policy", "grpc_response_status",
];

/** The gateway's Prometheus series. Request series are recorded when the response is complete. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = this.registry.register(new Counter("meshgate_requests_total", "Requests by route, backend, endpoint, status code and response flag.", ["route", "backend", "endpoint", "code", "flags"]));
  readonly grpcRequests = this.registry.register(new Counter("meshgate_grpc_requests_total", "gRPC calls by route, backend and grpc-status (the call's status, from the upstream or the gateway).", ["route", "backend", "grpc_status"]));
  readonly duration = this.registry.register(new Histogram("meshgate_request_duration_seconds", "Time from request arrival until the response was complete.", ["route", "backend"], SECONDS));
  readonly requestBytes = this.registry.register(new Histogram("meshgate_request_bytes", "Request body size (Content-Length).", ["route"], BYTES));
  readonly responseBytes = this.registry.register(new Histogram("meshgate_response_bytes", "Response body size.", ["route"], BYTES));
  readonly config = this.registry.register(new Gauge("meshgate_config_info", "The configuration version in force (value 1).", ["version", "hash"]));
  readonly reloads = this.registry.register(new Counter("meshgate_config_reloads_total", "Configuration reload attempts by result.", ["result"]));
  readonly retries = this.registry.register(new Counter("meshgate_retries_total", "Retries sent upstream."));
  readonly hedges = this.registry.register(new Counter("meshgate_hedges_total", "Hedged attempts sent upstream."));
  readonly retriesSkipped = this.registry.register(new Counter("meshgate_retries_skipped_total", "Retries a policy wanted but a limit (budget, body size) prevented."));
  readonly ejections = this.registry.register(new Counter("meshgate_ejections_total", "Endpoint ejections by outlier detection."));
  readonly breakerRejections = this.registry.register(new Counter("meshgate_breaker_rejections_total", "Requests refused by a circuit breaker."));
  readonly authFailures = this.registry.register(new Counter("meshgate_auth_failures_total", "Requests refused by identity or authorization, by route and reason (the error code).", ["route", "reason"]));
  readonly authzDecisions = this.registry.register(new Counter("meshgate_authorization_decisions_total", "Authorization decisions by policy, deciding rule and result (allow, deny, dry_run_deny).", ["policy", "rule", "result"]));
  readonly rateLimitDecisions = this.registry.register(new Counter("meshgate_ratelimit_decisions_total", "Rate-limit decisions by policy, rule and result (allowed, limited, shadow_limited, store_error_open, store_error_closed, store_full_open, store_full_closed).", ["policy", "rule", "result"]));
  readonly ejected = this.registry.register(new Gauge("meshgate_endpoint_ejected", "1 while an endpoint is out of rotation (ejected or failing health checks).", ["backend", "endpoint"]));
  readonly websocketsActive = this.registry.register(new Gauge("meshgate_websocket_connections_active", "WebSocket connections relayed now (Node; after the 101)."));
  readonly websocketsClosed = this.registry.register(new Counter("meshgate_websocket_connections_closed_total", "WebSocket connections closed, by reason: client or upstream (closed first), client_error, upstream_error, idle_timeout, shutdown.", ["reason"]));
  readonly websocketBytes = this.registry.register(new Counter("meshgate_websocket_bytes_total", "Bytes relayed through WebSocket connections (open ones included), by direction: upstream (client to backend) or downstream.", ["direction"]));
  private tunnelsOpen = 0;
  private readonly closedTunnelBytes = { upstream: 0, downstream: 0 };
  private liveTunnels: () => Iterable<{ readonly toUpstream: number; readonly toClient: number }> = () => [];
  /**
   * Per route, per backend ("" = answered by the gateway itself: redirects, refusals, 429s): what
   * the dashboard shows next to the configured weights, cumulative and over the last minute.
   */
  readonly traffic = new Map<string, Map<string, RouteTraffic>>();
  /** The clock the last-minute windows count on (milliseconds). */
  readonly now: () => number;
  private readonly istioRequests: Counter | null;
  private readonly istioDuration: Histogram | null;
  private readonly workload: string;
  private readonly routeSeries = new Map<string, Map<string, RouteSeries>>();

  constructor(options: GatewayMetricsOptions = {}) {
    this.websocketsActive.set([], 0);
    this.registry.collect(() => {
      let { upstream, downstream } = this.closedTunnelBytes;
      for (const t of this.liveTunnels()) {
        upstream += t.toUpstream;
        downstream += t.toClient;
      }
      this.websocketBytes.setTotal(["upstream"], upstream);
      this.websocketBytes.setTotal(["downstream"], downstream);
    });
    this.workload = options.workload ?? "meshgate";
    this.now = options.now ?? (() => performance.now());
    this.istioRequests = options.istio ? this.registry.register(new Counter("istio_requests_total", "Requests (Istio standard metric).", ISTIO_LABELS)) : null;
    this.istioDuration = options.istio ? this.registry.register(new Histogram("istio_request_duration_milliseconds", "Request duration in ms (Istio standard metric).", ISTIO_LABELS, MILLISECONDS)) : null;
  }

  readonly observe = (o: RequestOutcome): void => {
    const route = o.routeId ?? "";
    const backend = o.backend ?? "";
    const status = o.response.status;
    const grpcStatus = grpcStatusOfResponse(o.response);
    if (grpcStatus !== null) this.grpcRequests.inc([route, backend, grpcStatus]);
    const seconds = (o.endTime - o.request.startTime) / 1000;
    const series = this.seriesFor(route, backend);
    const endpoint = o.forward.endpoint ?? "";
    this.requestSeries(series, route, backend, endpoint, status, o.flags).count++;
    series.duration.observe(seconds);
    if (o.request.body?.length) this.requestBytes.observe([route], o.request.body.length);
    if (o.responseBytes !== null) series.responseBytes.observe(o.responseBytes);
    if ((status === 401 || status === 403 || o.error?.code === "jwks_unavailable" || o.error?.code === "key_store_unavailable") && o.error) this.authFailures.inc([route, o.error.code]);
    const decision = o.security?.decision;
    if (decision) this.authzDecisions.inc([o.security!.policy, decision.rule ?? "(default)", decision.allowed ? "allow" : o.security!.dryRunDenied ? "dry_run_deny" : "deny"]);
    if (o.rateLimit) this.rateLimitDecisions.inc([o.rateLimit.policy, o.rateLimit.rule, o.rateLimit.outcome]);
    const t = series.traffic;
    t.requests++;
    if (status >= 500) t.errors++;
    else if (status >= 400) t.clientErrors++;
    t.seconds += seconds;
    t.lastMinute.add(this.now(), status);
    if (this.istioRequests && this.istioDuration) {
      const code = String(status);
      const [ns = "", name = ""] = backend.split("/");
      const labels = ["source", this.workload, "default", "unknown", name || "unknown", ns || "unknown", name ? `${name}.${ns}.svc.cluster.local` : "unknown", name || "unknown", ns || "unknown", "unknown", grpcStatus !== null || isGrpcRequest(o.request.headers) ? "grpc" : "http", code, o.flags, "unknown", grpcStatus ?? ""];
      this.istioRequests.inc(labels);
      this.istioDuration.observe(labels, seconds * 1000);
    }
  };

  // Plain lookups, no closures: a closure that captures the labels made every request allocate its scope.
  private seriesFor(route: string, backend: string): RouteSeries {
    return this.routeSeries.get(route)?.get(backend) ?? this.newSeries(route, backend);
  }

  private requestSeries(series: RouteSeries, route: string, backend: string, endpoint: string, status: number, flags: string): CounterSeries {
    let byStatus = series.requests.get(endpoint);
    if (byStatus === undefined) series.requests.set(endpoint, (byStatus = new Map()));
    let byFlags = byStatus.get(status);
    if (byFlags === undefined) byStatus.set(status, (byFlags = new Map()));
    let counter = byFlags.get(flags);
    if (counter === undefined) byFlags.set(flags, (counter = this.requests.seriesOf([route, backend, endpoint, String(status), flags])));
    return counter;
  }

  private newSeries(route: string, backend: string): RouteSeries {
    return cached(cached(this.routeSeries, route, () => new Map<string, RouteSeries>()), backend, () => {
      let byBackend = this.traffic.get(route);
      if (byBackend === undefined) this.traffic.set(route, (byBackend = new Map()));
      const traffic = cached(byBackend, backend, () => ({ requests: 0, clientErrors: 0, errors: 0, seconds: 0, lastMinute: new RateWindow() }));
      return { duration: this.duration.seriesOf([route, backend]), responseBytes: this.responseBytes.seriesOf([route]), traffic, requests: new Map() };
    });
  }

  /** Reads retry, hedge, ejection and breaker state at every scrape. */
  watchUpstreams(state: UpstreamState): void {
    this.registry.collect(() => {
      const c = state.counters;
      this.retries.setTotal([], c.retries);
      this.hedges.setTotal([], c.hedges);
      this.retriesSkipped.setTotal([], c.retriesSkipped);
      this.ejections.setTotal([], c.ejections);
      this.breakerRejections.setTotal([], c.breakerRejections);
      this.ejected.reset();
      const now = state.clock.now();
      for (const [backend, health] of state.health.entries()) {
        for (const [endpoint, e] of health.endpoints) this.ejected.set([backend, endpoint], e.healthy(now) ? 0 : 1);
      }
    });
  }

  /** A WebSocket connection switched protocols (its 101 was relayed). */
  tunnelOpened(): void {
    this.websocketsActive.set([], ++this.tunnelsOpen);
  }

  /** ...and closed, having relayed these bytes each way. */
  tunnelClosed(reason: string, toUpstream: number, toClient: number): void {
    this.websocketsActive.set([], --this.tunnelsOpen);
    this.websocketsClosed.inc([reason]);
    this.closedTunnelBytes.upstream += toUpstream;
    this.closedTunnelBytes.downstream += toClient;
  }

  /** Where the runtime keeps its open tunnels, so byte counters include them at every scrape. */
  watchTunnels(live: () => Iterable<{ readonly toUpstream: number; readonly toClient: number }>): void {
    this.liveTunnels = live;
  }

  swapped(s: Snapshot): void {
    this.config.reset();
    this.config.set([s.version, s.hash], 1);
  }
}
