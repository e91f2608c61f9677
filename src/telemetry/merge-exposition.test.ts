import { describe, expect, it } from "vitest";
import { Counter, Gauge, Histogram, Registry } from "./metrics.js";
import { mergeExpositions } from "./merge-exposition.js";

function worker(requests: number, durations: number[], version: number): string {
  const registry = new Registry();
  const c = registry.register(new Counter("meshgate_requests_total", "Requests.", ["code"]));
  const h = registry.register(new Histogram("meshgate_request_duration_seconds", "Durations.", [], [0.1, 1]));
  const g = registry.register(new Gauge("meshgate_config_version", "Version.", []));
  c.inc(["200"], requests);
  for (const d of durations) h.observe([], d);
  g.set([], version);
  return registry.render();
}

describe("mergeExpositions", () => {
  it("sums counters and histograms and keeps gauges per worker", () => {
    const merged = mergeExpositions([worker(3, [0.05, 0.5], 7), worker(4, [2], 7)]);
    expect(merged).toContain('meshgate_requests_total{code="200"} 7\n');
    expect(merged).toContain('meshgate_request_duration_seconds_bucket{le="0.1"} 1\n');
    expect(merged).toContain('meshgate_request_duration_seconds_bucket{le="+Inf"} 3\n');
    expect(merged).toContain("meshgate_request_duration_seconds_count 3\n");
    expect(merged).toMatch(/meshgate_request_duration_seconds_sum 2\.55\d*\n/);
    expect(merged).toContain('meshgate_config_version{worker="0"} 7\n');
    expect(merged).toContain('meshgate_config_version{worker="1"} 7\n');
    expect(merged.match(/# TYPE meshgate_requests_total counter/g)).toHaveLength(1);
  });
});
