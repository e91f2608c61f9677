import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RetrySimulation {
  readonly url: string;
  readonly port: number;
  /** Requests seen per `uuid` query value. */
  readonly attempts: Map<string, number>;
  close(): Promise<void>;
}

/**
 * The Gateway API conformance echo backend's retry simulation, on loopback: per `uuid`, the first
 * `succeedAfter` requests fail, then requests answer 200. A failure is `responseCode` when given,
 * else a connection reset after the request was read (TCP RST, no response bytes); `delayRetry`
 * (e.g. 300ms) delays each failing answer. `GET /attempts?uuid=U` says how many requests U made.
 */
export async function startRetrySimulation(): Promise<RetrySimulation> {
  const attempts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const q = url.searchParams;
      const id = q.get("uuid") ?? "";
      // How many requests a uuid made, for tests that cannot see this process (workerd).
      if (url.pathname === "/attempts") return res.writeHead(200, { "content-type": "text/plain" }).end(String(attempts.get(id) ?? 0));
      const n = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, n);
      if (n > Number(q.get("succeedAfter") ?? "0")) {
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(JSON.stringify({ path: req.url, attempt: n }));
      }
      const fail = () => {
        const code = q.get("responseCode");
        if (code === null) return req.socket.resetAndDestroy();
        res.writeHead(Number(code), { "content-type": "text/plain" });
        res.end(`simulated ${code}`);
      };
      const delay = /^(\d+)ms$/.exec(q.get("delayRetry") ?? "");
      if (delay) setTimeout(fail, Number(delay[1]));
      else fail();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    attempts,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
