import cluster, { type Worker } from "node:cluster";
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { availableParallelism } from "node:os";
import { mergeExpositions } from "../../telemetry/merge-exposition.js";
import type { Logger } from "./log.js";

/** What a worker tells the primary once its gateway listens. */
interface ReadyMessage {
  readonly type: "meshgate:ready";
  readonly adminPort: number;
}

export interface ClusterOptions {
  readonly workers: number;
  readonly adminPort: number;
  readonly adminHost: string;
  /** How long workers get to drain on SIGTERM before they are killed. */
  readonly graceMs: number;
  readonly log: Logger;
}

interface Slot {
  worker: Worker;
  adminPort: number | null;
}

/** `--workers N|auto`: a whole number 1-256, or every core this process may use. */
export function parseWorkers(text: string): number {
  if (text === "auto") return availableParallelism();
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || n < 1 || n > 256) throw new Error(`--workers must be a whole number 1-256 or "auto", got "${text}"`);
  return n;
}

/** In a `--workers` worker: tells the primary where this worker's own admin API listens. */
export function reportReady(adminPort: number): void {
  const message: ReadyMessage = { type: "meshgate:ready", adminPort };
  process.send?.(message);
}

/**
 * The `--workers` primary: forks N workers that share the data listener (node:cluster hands
 * connections round-robin), serves the one admin endpoint (`/metrics` merged from every worker,
 * `/ready` when all are, the rest answered by the first worker) and on SIGTERM drains them all.
 * A worker that fails to start fails the whole start (exit 1); one that dies later is replaced.
 */
export function runClusterPrimary(options: ClusterOptions): Promise<number> {
  const { log } = options;
  const slots: Slot[] = [];
  let draining = false;
  let started = false;
  return new Promise<number>((resolve) => {
    const fail = (message: string) => {
      log("error", message);
      draining = true;
      for (const s of slots) s.worker.process.kill("SIGKILL");
      closeAdmin();
      resolve(1);
    };
    const fork = (index: number) => {
      const worker = cluster.fork({ MESHGATE_WORKER: String(index) });
      const slot: Slot = { worker, adminPort: null };
      slots[index] = slot;
      worker.on("message", (m: ReadyMessage) => {
        if (m?.type !== "meshgate:ready") return;
        slot.adminPort = m.adminPort;
        if (!started && slots.length === options.workers && slots.every((s) => s?.adminPort !== null)) {
          started = true;
          log("info", "meshgate workers ready", { workers: options.workers, pids: slots.map((s) => s.worker.process.pid) });
        }
      });
      worker.on("exit", (code, signal) => {
        if (draining) return;
        if (!started) return fail(`worker ${index} exited during start (${signal ?? `exit ${code}`}); see its message above`);
        log("warn", `worker ${index} exited (${signal ?? `exit ${code}`}); starting a replacement`, { pid: worker.process.pid });
        fork(index);
      });
    };

    const admin = createServer((req, res) => void answer(req, res));
    // Idle keep-alive connections (scrapers, probes) must not hold the process open after the end.
    const closeAdmin = () => {
      admin.close();
      admin.closeAllConnections();
    };
    const answer = async (req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? "/").split("?")[0];
      const ready = started && !draining && slots.every((s) => s.adminPort !== null);
      if (path === "/healthz") return send(res, 200, "text/plain", "ok\n");
      if (path === "/ready") {
        const workers = slots.map((s, index) => ({ index, pid: s.worker.process.pid ?? null, ready: s.adminPort !== null, adminPort: s.adminPort }));
        return send(res, ready ? 200 : 503, "application/json", JSON.stringify({ ready, draining, workers }));
      }
      if (!ready) return send(res, 503, "application/json", JSON.stringify({ error: { code: "no_config", message: "workers are not all ready" } }));
      if (path === "/metrics") {
        // Every worker or none: a scrape that saw only some workers would make counters jump back.
        const texts = await Promise.all(slots.map((s) => fetchText(s.adminPort!, "/metrics", req.headers.authorization)));
        const refused = texts.find((t) => t.status !== 200);
        if (refused !== undefined) return send(res, refused.status === 401 ? 401 : 503, "text/plain", refused.status === 401 ? refused.body : "a worker did not answer /metrics\n");
        return send(res, 200, "text/plain; version=0.0.4", mergeExpositions(texts.map((t) => t.body)));
      }
      proxy(req, res, slots[0]!.adminPort!);
    };

    admin.once("error", (err) => fail(`admin port ${options.adminHost}:${options.adminPort}: ${(err as Error).message}`));
    admin.listen(options.adminPort, options.adminHost, () => {
      for (let i = 0; i < options.workers; i++) fork(i);
    });

    const stop = (signal: string) => {
      if (draining) return;
      draining = true;
      log("info", `received ${signal}; draining ${slots.length} workers`);
      const alive = slots.filter((s) => s.worker.isConnected() || s.worker.process.exitCode === null);
      let left = alive.length;
      const done = () => {
        clearTimeout(hard);
        closeAdmin();
        resolve(0);
      };
      const hard = setTimeout(() => {
        for (const s of alive) s.worker.process.kill("SIGKILL");
        done();
      }, options.graceMs + 1_500);
      if (left === 0) return done();
      for (const s of alive) {
        s.worker.once("exit", () => {
          if (--left === 0) done();
        });
        s.worker.process.kill("SIGTERM");
      }
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function fetchText(port: number, path: string, authorization: string | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, headers: authorization ? { authorization } : {}, timeout: 5_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 502, body }));
      res.on("error", () => resolve({ status: 502, body: "" }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ status: 502, body: "" }));
    req.end();
  });
}

/** The admin routes that describe config (/config, /explain, /dashboard) are the same in every worker. */
function proxy(req: IncomingMessage, res: ServerResponse, port: number): void {
  const upstream = httpRequest({ host: "127.0.0.1", port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on("error", () => {
    if (!res.headersSent) send(res, 502, "application/json", JSON.stringify({ error: { code: "upstream_unavailable", message: "worker admin API did not answer" } }));
    else res.destroy();
  });
  req.pipe(upstream);
}
