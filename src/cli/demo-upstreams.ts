import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { StartupError } from "../runtime/node/startup-error.js";

/** The Bookinfo services the demo policies point at, each on its own loopback port. */
export const DEMO_SERVICES = [
  { name: "productpage", version: "v1", port: 9081 },
  { name: "details", version: "v1", port: 9082 },
  { name: "reviews", version: "v1", port: 9083 },
  { name: "reviews", version: "v2", port: 9084 },
  { name: "reviews", version: "v3", port: 9085 },
  { name: "ratings", version: "v1", port: 9086 },
] as const;

/** Starts one small JSON service per entry; each echoes who answered and what it received. */
export async function startDemoUpstreams(host = "127.0.0.1", portOffset = 0): Promise<{ servers: Server[]; close(): Promise<void> }> {
  const started = await Promise.allSettled(
    DEMO_SERVICES.map(
      (svc) =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer((req, res) => {
            const body = JSON.stringify({
              service: svc.name,
              version: svc.version,
              method: req.method,
              path: req.url,
              host: req.headers.host,
              endUser: req.headers["end-user"] ?? null,
              requestId: req.headers["x-request-id"] ?? null,
              ...(svc.name === "reviews" ? { stars: svc.version === "v1" ? null : svc.version === "v2" ? "black" : "red" } : {}),
            });
            req.resume();
            res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "x-served-by": `${svc.name}-${svc.version}` });
            res.end(body);
          });
          server.once("error", (err: NodeJS.ErrnoException) => reject(new StartupError(demoPortMessage(err, `${svc.name}-${svc.version}`, host, svc.port + portOffset))));
          server.listen(svc.port + portOffset, host, () => resolve(server));
        }),
    ),
  );
  const servers = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const close = () => Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined);
  const failed = started.find((r) => r.status === "rejected");
  if (failed !== undefined) {
    // The ones that did bind would keep the process alive.
    await close();
    throw failed.reason;
  }
  return { servers, close };
}

function demoPortMessage(err: NodeJS.ErrnoException, service: string, host: string, port: number): string {
  const why = err.code === "EADDRINUSE" ? "the port is already in use (another npm start or meshgate demo?); stop what listens there" : err.message;
  return `cannot listen on ${host}:${port} for the demo upstream ${service}: ${why} (the demo policies expect ports ${DEMO_SERVICES[0].port}-${DEMO_SERVICES[DEMO_SERVICES.length - 1]!.port})`;
}

export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}
