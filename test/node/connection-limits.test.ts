import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { hanging, healthy, stallingMidBody } from "../support/chaos-upstreams.js";
import type { TestGateway } from "../support/gateway.js";
import { fleet, serviceFiles } from "../support/fleet.js";

/** Backend.spec.connection and the default upstream timeouts, against real loopback upstreams. */
const { server: track, gateway } = fleet();

interface CountingUpstream {
  readonly url: string;
  /** Connections ever accepted, and the most open at once. */
  readonly stats: { accepted: number; open: number; maxOpen: number; closed: number };
  close(): Promise<void>;
}

/** An upstream that answers after `delayMs` and counts its TCP connections. */
async function counting(delayMs: number): Promise<CountingUpstream> {
  const stats = { accepted: 0, open: 0, maxOpen: 0, closed: 0 };
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    req.resume();
    setTimeout(() => res.writeHead(200, { "x-upstream": "counting" }).end("ok"), delayMs);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    stats.accepted++;
    stats.maxOpen = Math.max(stats.maxOpen, ++stats.open);
    socket.on("close", () => {
      sockets.delete(socket);
      stats.open--;
      stats.closed++;
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stats, close };
}

const files = serviceFiles;

async function get(gw: TestGateway): Promise<{ status: number; code: string | null; flags: string | null; ok: boolean }> {
  try {
    const res = await fetch(`${gw.url}/`);
    const text = await res.text();
    const code = res.headers.get("content-type") === "application/json" ? (JSON.parse(text) as { error: { code: string } }).error.code : null;
    return { status: res.status, code, flags: res.headers.get("x-meshgate-flags"), ok: res.status === 200 };
  } catch {
    return { status: 0, code: null, flags: null, ok: false };
  }
}

describe("Backend.spec.connection", () => {
  it("maxConnections per endpoint: excess requests wait, up to the breaker's pending limit, then 503 backend_overloaded", async () => {
    const up = await track(counting(300));
    const gw = await gateway(files([up.url], "  connection: { maxConnections: 2 }\n  circuitBreaker: { maxRequests: 100, maxPendingRequests: 3 }\n"));
    const results = await Promise.all(Array.from({ length: 10 }, () => get(gw)));
    expect(results.filter((r) => r.ok)).toHaveLength(5); // 2 in service + 3 waiting
    const refused = results.filter((r) => !r.ok);
    expect(refused).toHaveLength(5);
    for (const r of refused) expect(r).toMatchObject({ status: 503, code: "backend_overloaded", flags: "UO" });
    expect(up.stats.maxOpen).toBeLessThanOrEqual(2);
    // Our own limit says nothing about the endpoint: it is not ejected.
    expect(gw.gateway.upstreams.health.backend("default/svc").endpoint(up.url).healthy(performance.now())).toBe(true);
  });

  it("without a circuit breaker, up to 1024 requests wait for one of maxConnections", async () => {
    const up = await track(counting(50));
    const gw = await gateway(files([up.url], "  connection: { maxConnections: 2 }\n"));
    const results = await Promise.all(Array.from({ length: 30 }, () => get(gw)));
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(up.stats.maxOpen).toBeLessThanOrEqual(2);
    expect(up.stats.accepted).toBeLessThanOrEqual(2);
  });

  it("maxRequestsPerConnection and idleTimeout recycle connections", async () => {
    const up = await track(counting(0));
    const gw = await gateway(files([up.url], "  connection: { maxRequestsPerConnection: 1, idleTimeout: 100ms }\n"));
    for (let i = 0; i < 4; i++) expect((await get(gw)).ok).toBe(true);
    expect(up.stats.accepted).toBe(4);
    const three = await track(counting(0));
    const gw3 = await gateway(files([three.url], "  connection: { maxRequestsPerConnection: 3 }\n"));
    for (let i = 0; i < 7; i++) expect((await get(gw3)).ok).toBe(true);
    expect(three.stats.accepted).toBe(3); // 3 + 3 + 1
    // The last connection, idle, closes after 100 ms.
    const deadline = performance.now() + 5_000;
    while (up.stats.open > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(up.stats.open).toBe(0);
  });
});

describe("default upstream timeouts", () => {
  it("a hung endpoint without any TrafficPolicy is timed out (responseHeaders) and ejected", async () => {
    const [hung, good] = await Promise.all([track(hanging()), track(healthy("good"))]);
    const gw = await gateway(files([hung.url, good.url], "  timeouts: { responseHeaders: 200ms }\n"));
    const results: Awaited<ReturnType<typeof get>>[] = [];
    for (let i = 0; i < 30; i++) results.push(await get(gw));
    const failed = results.filter((r) => !r.ok);
    for (const r of failed) expect(r).toMatchObject({ status: 504, code: "upstream_timeout" });
    // Five timeouts in a row (the always-on gateway-error default) eject it.
    expect(failed.length).toBe(hung.hits);
    expect(hung.hits).toBeLessThanOrEqual(5);
    expect(gw.gateway.upstreams.health.backend("default/svc").endpoint(hung.url).healthy(performance.now())).toBe(false);
  });

  it("a body that stalls past streamIdle is cut, flagged UT and counted against the endpoint", async () => {
    const stall = await track(stallingMidBody());
    const gw = await gateway(files([stall.url], "  timeouts: { streamIdle: 200ms }\n"));
    const started = performance.now();
    const r = await get(gw);
    expect(r.ok).toBe(false);
    expect(performance.now() - started).toBeLessThan(3_000);
    await new Promise((res) => setTimeout(res, 50));
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/meshgate_requests_total\{[^}]*code="200",flags="UT"\} 1/);
    expect(gw.gateway.upstreams.health.backend("default/svc").endpoint(stall.url).consecutiveGatewayErrors).toBe(1);
  });

  it("timeouts.request: 0s written on a route lifts the defaults there", async () => {
    const hung = await track(hanging());
    const gw = await gateway(files([hung.url], "", ", timeouts: { request: 0s }"));
    const controller = new AbortController();
    const pending = fetch(`${gw.url}/`, { signal: controller.signal }).then(
      (r) => r.status,
      () => "aborted",
    );
    // Not answered by any gateway timeout; only the client gives up.
    const raced = await Promise.race([pending, new Promise((r) => setTimeout(() => r("pending"), 500))]);
    expect(raced).toBe("pending");
    controller.abort();
    expect(await pending).toBe("aborted");
  });
});
