import { parseArgs } from "node:util";
import { configStore } from "./targets.js";
import { startNodeGateway, type NodeGateway } from "../runtime/node/gateway-server.js";

export const SERVE_OPTIONS = {
  policies: { type: "string" },
  store: { type: "string" },
  prefix: { type: "string" },
  port: { type: "string", default: "8080" },
  "admin-port": { type: "string", default: "9901" },
  host: { type: "string", default: "127.0.0.1" },
  "trusted-proxies": { type: "string" },
  "no-watch": { type: "boolean", default: false },
  "access-log": { type: "string", default: "stdout" },
  "otlp-endpoint": { type: "string" },
  "istio-metrics": { type: "boolean", default: false },
} as const;

export function parsePort(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${flag} must be a port number 0-65535, got "${text}"`);
  return n;
}

/** `meshgate serve`: runs until SIGTERM/SIGINT, then drains and exits 0. */
export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: SERVE_OPTIONS, strict: true });
  if (!values.policies === !values.store) throw new Error("serve needs --policies DIR or --store URL (one of them)");
  const gateway = await startNodeGateway({
    ...(values.policies ? { policies: values.policies } : { store: configStore(values.store!, values.prefix) }),
    port: parsePort(values.port, "port"),
    adminPort: parsePort(values["admin-port"], "admin-port"),
    host: values.host,
    watch: !values["no-watch"],
    accessLog: values["access-log"],
    istioMetrics: values["istio-metrics"],
    ...(values["otlp-endpoint"] ? { otlpEndpoint: values["otlp-endpoint"] } : {}),
    ...(values["trusted-proxies"] ? { trustedProxies: values["trusted-proxies"].split(",").map((s) => s.trim()) } : {}),
  });
  await untilSignal(gateway);
  return 0;
}

/** Resolves after a termination signal has drained the gateway (forced after 8 s). */
export function untilSignal(gateway: NodeGateway, onClose?: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let closing = false;
    const stop = (signal: string) => {
      if (closing) return;
      closing = true;
      process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: "info", message: `received ${signal}; draining` })}\n`);
      const hardStop = setTimeout(() => process.exit(0), 9_500);
      hardStop.unref();
      gateway
        .close(8_000)
        .then(() => onClose?.())
        .finally(() => resolve());
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}
