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

/**
 * Sends 200 with a Content-Length of `length` and `sent` bytes of body, then resets the
 * connection: the headers looked fine, the body never arrived whole.
 */
export async function resettingMidBody(length = 1_000, sent = 100): Promise<ChaosServer> {
  const sockets = new Set<Socket>();
  let self: ChaosServer;
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on("data", () => {
      self.hits++;
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${length}\r\nx-upstream: mid-body\r\n\r\n${"x".repeat(sent)}`);
      setTimeout(() => socket.resetAndDestroy(), 5);
    });
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  self = wrap(server, await listen(server), sockets);
  return self;
}

/** Sends the headers and a first chunk, then never another byte (a stalled body). */
export async function stallingMidBody(): Promise<ChaosServer> {
  let self: ChaosServer;
  const server = createServer((req, res) => {
    self.hits++;
    req.resume();
    res.writeHead(200, { "content-length": "1000", "x-upstream": "stall" });
    res.write("x".repeat(10));
  });
  self = wrap(server, await listen(server));
  return self;
}

/**
 * Answers 200, or `status` while `down()` says so; records when each request arrived
 * (performance.now()) with its x-request-id, so first attempts and retries can be told apart.
 */
export async function switchable(down: () => boolean, status = 503): Promise<ChaosServer & { arrivals: { at: number; id: string }[] }> {
  const arrivals: { at: number; id: string }[] = [];
  let self: ChaosServer;
  const server = createServer((req, res) => {
    self.hits++;
    arrivals.push({ at: performance.now(), id: String(req.headers["x-request-id"]) });
    req.resume();
    if (down()) res.writeHead(status, { "x-upstream": "switchable" }).end(String(status));
    else res.writeHead(200, { "x-upstream": "switchable" }).end("ok");
  });
  self = wrap(server, await listen(server));
  return Object.assign(self, { arrivals });
}
