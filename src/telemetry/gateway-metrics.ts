import type { RequestOutcome } from "../pipeline/pipeline.js";
import type { Snapshot } from "../policy/snapshot.js";
import { Counter, Gauge, Histogram, Registry } from "./metrics.js";

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The gateway's own series; issue-specific stages add theirs to the same registry. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = this.registry.register(new Counter("meshgate_requests_total", "Requests handled, by route, backend, status code and gateway error code.", ["route", "backend", "code", "error"]));
  readonly duration = this.registry.register(new Histogram("meshgate_request_duration_seconds", "Time from request arrival until response headers were ready.", ["route"], SECONDS));
  readonly config = this.registry.register(new Gauge("meshgate_config_info", "The configuration version in force (value 1).", ["version", "hash"]));
  readonly reloads = this.registry.register(new Counter("meshgate_config_reloads_total", "Configuration reload attempts by result.", ["result"]));

  constructor(private readonly now: () => number = () => performance.now()) {}

  readonly observe = (o: RequestOutcome): void => {
    const route = o.routeId ?? "";
    this.requests.inc([route, o.backend ?? "", String(o.response.status), o.error?.code ?? ""]);
    this.duration.observe([route], (this.now() - o.request.startTime) / 1000);
  };

  swapped(s: Snapshot): void {
    this.config.reset();
    this.config.set([s.version, s.hash], 1);
  }
}
