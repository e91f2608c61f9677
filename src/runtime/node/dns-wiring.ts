import { Counter, Gauge, type Registry } from "../../telemetry/metrics.js";
import { DnsDiscovery, type DnsDiscoveryOptions } from "./dns-discovery.js";
import type { Logger } from "./log.js";

/**
 * `serve --service-discovery dns`: the resolver with its log lines and metrics. Failures are
 * logged once per outage (and again when it ends), not on every retry.
 */
export function dnsDiscovery(options: DnsDiscoveryOptions, log: Logger, registry: Registry, onChange: () => void): DnsDiscovery {
  const resolutions = registry.register(new Counter("meshgate_dns_resolutions_total", "DNS discovery lookups by name and result (answer, changed, failure).", ["hostname", "result"]));
  const endpoints = registry.register(new Gauge("meshgate_dns_endpoints", "Addresses in force per discovered name (the last good answer).", ["hostname"]));
  const stale = registry.register(new Gauge("meshgate_dns_stale", "1 while a name's last lookup failed and its last good answer is kept.", ["hostname"]));
  const failing = new Set<string>();
  const discovery = new DnsDiscovery({
    ...options,
    onChange: () => onChange(),
    onResult: (event) => {
      if (event.kind === "failure") {
        resolutions.inc([event.hostname, "failure"]);
        stale.set([event.hostname], 1);
        if (!failing.has(event.hostname)) log("warn", "DNS discovery failed; keeping the last good answer", { hostname: event.hostname, error: event.error, kept: event.kept });
        failing.add(event.hostname);
        return;
      }
      resolutions.inc([event.hostname, event.changed ? "changed" : "answer"]);
      endpoints.set([event.hostname], event.addresses.length);
      stale.set([event.hostname], 0);
      if (failing.delete(event.hostname)) log("info", "DNS discovery answers again", { hostname: event.hostname, addresses: event.addresses });
      else if (event.changed) log("info", "DNS discovery: addresses changed", { hostname: event.hostname, addresses: event.addresses, ttlMs: event.ttlMs });
    },
  });
  return discovery;
}
