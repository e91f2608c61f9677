import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: string[];
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
}

export interface TestUpstream {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly received: Received[];
  /** Replace how the upstream answers (default: 200 JSON echo naming the upstream). */
  respond: (req: IncomingMessage, res: ServerResponse, body: string) => void;
  close(): Promise<void>;
}

/** A real HTTP server on a loopback port that records what reached it. */
export async function startUpstream(name: string): Promise<TestUpstream> {
  const received: Received[] = [];
  const upstream: TestUpstream = {
    name,
    url: "",
    port: 0,
    received,
    respond: (req, res, body) => {
      const payload = JSON.stringify({ upstream: name, method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(200, { "content-type": "application/json", "x-upstream": name });
      res.end(payload);
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      received.push({ method: req.method ?? "", url: req.url ?? "", rawHeaders: req.rawHeaders, headers: req.headers, body });
      upstream.respond(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(upstream, { port, url: `http://127.0.0.1:${port}` });
}
