import { createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { freePort } from "./free-port.js";

export interface ChaosServer {
  readonly url: string;
  readonly port: number;
  hits: number;
  close(): Promise<void>;
}

async function listen(server: Server | TcpServer, port = 0): Promise<number> {
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

function wrap(server: Server | TcpServer, port: number, sockets?: Set<Socket>): ChaosServer {
  const s: ChaosServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    hits: 0,
    close: () =>
      new Promise((r) => {
        for (const sock of sockets ?? []) sock.destroy();
        if ("closeAllConnections" in server) server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return s;
}

/** A port with nothing listening: connections are refused. */
export async function refusing(): Promise<ChaosServer> {
  const port = await freePort();
  return { url: `http://127.0.0.1:${port}`, port, hits: 0, close: async () => undefined };
}

/** Starts a response and drops the connection in the middle of the header block. */
export async function resetting(): Promise<ChaosServer> {
  const sockets = new Set<Socket>();
  let self: ChaosServer;
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.once("data", () => {
      self.hits++;
      socket.write("HTTP/1.1 200 OK\r\ncontent-le");
      socket.resetAndDestroy();
    });
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  self = wrap(server, await listen(server), sockets);
  return self;
}

/** Accepts requests and never answers. */
export async function hanging(): Promise<ChaosServer> {
  let self: ChaosServer;
  const server = createServer((req) => {
    self.hits++;
    req.resume();
  });
  self = wrap(server, await listen(server));
  return self;
}

/** Answers 503 in bursts: `burst` failures, then `burst` successes, and so on. */
export async function bursting(burst: number, name = "burst"): Promise<ChaosServer> {
  let self: ChaosServer;
  const server = createServer((req, res) => {
    const n = self.hits++;
    req.resume();
    if (Math.floor(n / burst) % 2 === 0) res.writeHead(503, { "x-upstream": name }).end("burst");
    else res.writeHead(200, { "x-upstream": name }).end(name);
  });
  self = wrap(server, await listen(server));
  return self;
}

/** Always 200, naming itself; optional delay. Can be restarted on the same port. */
export async function healthy(name: string, delayMs = 0, port = 0): Promise<ChaosServer> {
  let self: ChaosServer;
  const server = createServer((req, res) => {
    self.hits++;
    req.resume();
    const t = setTimeout(() => res.writeHead(200, { "x-upstream": name }).end(name), delayMs);
    res.on("close", () => clearTimeout(t));
  });
  self = wrap(server, await listen(server, port));
  return self;
}

/** Always answers `status`. */
export async function failing(status: number, name = "failing"): Promise<ChaosServer> {
  let self: ChaosServer;
  const server = createServer((req, res) => {
    self.hits++;
    req.resume();
    res.writeHead(status, { "x-upstream": name }).end(String(status));
  });
  self = wrap(server, await listen(server));
  return self;
}
