import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { BodyEnd } from "../../src/http/exchange.js";
import { HeaderList } from "../../src/http/header-list.js";
import { NodeRequestBody } from "../../src/runtime/node/node-body.js";
import type { NodeResponseBody, ResponseSink } from "../../src/runtime/node/node-response-body.js";
import { UndiciTransport } from "../../src/runtime/node/undici-transport.js";
import { TransportError, type UpstreamRequest } from "../../src/upstream/transport.js";

// Long upstream timeouts (the 15 s / 60 s defaults) run on one sweep instead of a timer per
// request. Here the sweep covers everything from 100 ms and runs every 20 ms, so its rules can be
// checked against real loopback upstreams in milliseconds: never early, at most two periods
// late (plus scheduling), paused by a slow client, refreshed by every body chunk.
const PERIOD = 20;
const transport = new UndiciTransport({ sweptTimeoutsFromMs: 100, sweepPeriodMs: PERIOD });
const servers: Server[] = [];

afterEach(() => {
  for (const s of servers.splice(0)) s.closeAllConnections();
});
afterAll(async () => {
  await transport.close();
});

async function upstream(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function send(origin: string, extra: Partial<UpstreamRequest> = {}) {
  return transport.send({ origin, method: "GET", path: "/", headers: new HeaderList(["host", "upstream"]), body: null, signal: new AbortController().signal, ...extra });
}

function settled(body: NodeResponseBody): Promise<BodyEnd> {
  return new Promise((resolve) => body.onSettled(resolve));
}

/** The client side of a response: collects bytes; `write` refuses more until `drain` while `hold` is set. */
function sink() {
  const chunks: Buffer[] = [];
  let drain: (() => void) | null = null;
  const s = {
    destroyed: false,
    req: { complete: true },
    hold: false,
    ended: false,
    writeHead: () => s,
    write(chunk: Uint8Array) {
      chunks.push(Buffer.from(chunk));
      return !s.hold;
    },
    end() {
      s.ended = true;
    },
    once(event: "close" | "drain", fn: () => void) {
      if (event === "drain") drain = fn;
      return s;
    },
    destroy() {
      s.destroyed = true;
    },
    release() {
      s.hold = false;
      const fn = drain;
      drain = null;
      fn?.();
    },
    bytes: () => Buffer.concat(chunks).length,
  };
  return s satisfies ResponseSink;
}

describe("swept upstream timeouts (undici transport)", () => {
  it("a hung upstream fails with a headers timeout, never before it and at most two sweeps after", async () => {
    const origin = await upstream(() => undefined);
    const started = performance.now();
    const err = await send(origin, { headersTimeoutMs: 150 }).catch((e: unknown) => e);
    const took = performance.now() - started;
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe("timeout");
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(150 + 2 * PERIOD + 400);
  });

  it("a body that stalls after the headers is cut as a timeout", async () => {
    const origin = await upstream((_, res) => {
      res.writeHead(200, { "content-length": "1000" });
      res.write("x".repeat(100));
    });
    const res = await send(origin, { bodyIdleTimeoutMs: 150 });
    const started = performance.now();
    const body = res.body as NodeResponseBody;
    body.pipeTo(sink());
    expect(await settled(body)).toBe("timeout");
    expect(performance.now() - started).toBeGreaterThanOrEqual(150 - PERIOD);
  });

  it("a body that trickles for longer than the idle timeout, a chunk well inside it each time, completes", async () => {
    const origin = await upstream((_, res) => {
      res.writeHead(200, { "content-length": "12" });
      let sent = 0;
      const tick = setInterval(() => {
        res.write("x");
        if (++sent === 12) {
          clearInterval(tick);
          res.end();
        }
      }, 50);
    });
    const res = await send(origin, { headersTimeoutMs: 150, bodyIdleTimeoutMs: 150 });
    const body = res.body as NodeResponseBody;
    const out = sink();
    body.pipeTo(out);
    expect(await settled(body)).toBe("complete");
    expect(out.bytes()).toBe(12);
  });

  it("a slow client holding the body back is not the upstream's silence", async () => {
    const size = 4 * 1024 * 1024;
    const origin = await upstream((_, res) => {
      res.writeHead(200, { "content-length": String(size) });
      res.end(Buffer.alloc(size, 1));
    });
    const res = await send(origin, { bodyIdleTimeoutMs: 120 });
    const body = res.body as NodeResponseBody;
    const out = sink();
    out.hold = true;
    body.pipeTo(out);
    // Four idle timeouts with the upstream paused by the client side.
    await new Promise((r) => setTimeout(r, 500));
    expect(body.outcome).toBeNull();
    const done = settled(body);
    const pump = setInterval(() => out.release(), 5);
    try {
      expect(await done).toBe("complete");
    } finally {
      clearInterval(pump);
    }
    expect(out.bytes()).toBe(size);
  });

  it("a streamed upload slower than the headers timeout is not cut: that timeout counts from the end of the upload", async () => {
    const origin = await upstream((req, res) => {
      req.resume();
      req.on("end", () => res.end("stored"));
    });
    const stream = new PassThrough();
    const pending = send(origin, { method: "POST", headers: new HeaderList(["host", "upstream"]), body: new NodeRequestBody(stream, null, null), headersTimeoutMs: 150 });
    for (let i = 0; i < 6; i++) {
      stream.write("part");
      await new Promise((r) => setTimeout(r, 60));
    }
    stream.end();
    const res = await pending;
    expect(res.status).toBe(200);
    const body = res.body as NodeResponseBody;
    const out = sink();
    body.pipeTo(out);
    expect(await settled(body)).toBe("complete");
  });

  it("short timeouts stay on undici's own timers and still fire", async () => {
    const shortOnly = new UndiciTransport({ sweptTimeoutsFromMs: 10_000 });
    try {
      const origin = await upstream(() => undefined);
      const err = await shortOnly.send({ origin, method: "GET", path: "/", headers: new HeaderList(["host", "upstream"]), body: null, signal: new AbortController().signal, headersTimeoutMs: 150 }).catch((e: unknown) => e);
      expect((err as TransportError).code).toBe("timeout");
    } finally {
      await shortOnly.close();
    }
  });
});
