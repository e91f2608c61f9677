import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCliGateway, until, type CliGateway } from "../support/cli-gateway.js";
import { backendYaml, prefixRouteYaml } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

interface ReadyBody {
  readonly ready: boolean;
  readonly workers: readonly { readonly index: number; readonly pid: number; readonly ready: boolean; readonly adminPort: number | null }[];
}

function requestsTotal(metrics: string): number {
  return metrics
    .split("\n")
    .filter((l) => l.startsWith("meshgate_requests_total{"))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

describe("serve --workers 2", () => {
  let dir: string;
  let upstream: TestUpstream;
  let gw: CliGateway;
  beforeAll(async () => {
    upstream = await startUpstream("echo");
    dir = await mkdtemp(join(tmpdir(), "meshgate-workers-"));
    await writeFile(join(dir, "b.yaml"), backendYaml("echo", [upstream.url]));
    await writeFile(join(dir, "r.yaml"), prefixRouteYaml("r", "/", "echo"));
    gw = await startCliGateway(["--policies", dir, "--no-watch", "--workers", "2"]);
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const ready = async (): Promise<ReadyBody> => (await fetch(`${gw.adminUrl}/ready`)).json() as Promise<ReadyBody>;

  it("spreads connections over both workers and one /metrics scrape counts them all", async () => {
    const body = await ready();
    expect(body.ready).toBe(true);
    expect(body.workers.map((w) => w.ready)).toEqual([true, true]);
    // A fresh connection per request: node:cluster hands connections, not requests, round-robin.
    for (let i = 0; i < 40; i++) {
      const agent = new Agent({ connections: 1 });
      const res = await request(`${gw.url}/w/${i}`, { dispatcher: agent });
      await res.body.dump();
      expect(res.statusCode).toBe(200);
      await agent.close();
    }
    const perWorker = await Promise.all(body.workers.map(async (w) => requestsTotal(await (await fetch(`http://127.0.0.1:${w.adminPort}/metrics`)).text())));
    expect(perWorker.every((n) => n > 0)).toBe(true);
    expect(perWorker.reduce((a, b) => a + b, 0)).toBe(40);
    const merged = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(requestsTotal(merged)).toBe(40);
    // Gauges are per worker, never summed.
    expect(merged).toMatch(/worker="0"/);
    expect(merged).toMatch(/worker="1"/);
  });

  it("answers /config through a worker", async () => {
    const res = await fetch(`${gw.adminUrl}/config`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { routes: unknown[] }).routes.length).toBeGreaterThan(0);
  });

  it("replaces a worker that dies, and is ready again with all of them", async () => {
    const before = await ready();
    const victim = before.workers[1]!.pid;
    process.kill(victim, "SIGKILL");
    await until(async () => {
      const now = await ready().catch(() => null);
      return now !== null && now.ready && now.workers[1]!.pid !== victim;
    }, 15_000, "a replacement worker");
    const res = await fetch(`${gw.url}/after`);
    expect(res.status).toBe(200);
  });

  it("drains every worker on SIGTERM and exits 0", async () => {
    const pids = (await ready()).workers.map((w) => w.pid);
    expect(await gw.stop()).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe("serve --workers with a failing start", () => {
  it("exits 1 when the workers cannot load the policies", async () => {
    const dir = await mkdtemp(join(tmpdir(), "meshgate-workers-bad-"));
    await writeFile(join(dir, "r.yaml"), "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r }\nspec: { rulez: [] }\n");
    await expect(startCliGateway(["--policies", dir, "--no-watch", "--workers", "2"])).rejects.toThrow(/exited with 1/);
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses a bad --workers value", async () => {
    await expect(startCliGateway(["--policies", ".", "--workers", "0"])).rejects.toThrow(/--workers must be a whole number 1-256 or "auto"/);
  });
});
