import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../support/free-port.js";
import { until } from "../support/cli-gateway.js";
import { createCa } from "../support/pki.js";
import { backendYaml } from "../support/gateway.js";

const BIN = join(process.cwd(), "bin", "meshgate.js");
const REDIS = "redis://127.0.0.1:6379";
// Generous for a loaded 2-core machine: the point is "exits", against "hangs forever" before.
const EXIT_WITHIN_MS = 15_000;
const holders: Server[] = [];

afterAll(async () => {
  await Promise.all(holders.map((s) => new Promise((r) => s.close(r))));
});

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs the real CLI to its exit (killed after 30 s, which then fails the exit-time bound). */
function runCli(args: string[]): Promise<Exit> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const kill = setTimeout(() => child.kill("SIGKILL"), 30_000);
  return new Promise((resolve) => child.on("exit", (code) => (clearTimeout(kill), resolve({ code, stdout, stderr, ms: performance.now() - started }))));
}

/** A port some other process holds (here: this test). */
async function takenPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  holders.push(server);
  return (server.address() as { port: number }).port;
}

async function serveArgs(): Promise<string[]> {
  return ["serve", "--access-log", "off", "--port", String(await freePort()), "--admin-port", String(await freePort())];
}

/** Exit 1, one line on stderr that matches, nothing about a configuration that was never there, in time. */
function expectFailFast(out: Exit, line: RegExp): void {
  expect(out.code, out.stderr).toBe(1);
  expect(out.stderr.trimEnd().split("\n"), out.stderr).toHaveLength(1);
  expect(out.stderr).toMatch(line);
  expect(out.stderr).not.toMatch(/keeping the (last good|current) configuration|maxRetriesPerRequest/);
  expect(out.ms).toBeLessThan(EXIT_WITHIN_MS);
}

describe("serve fails fast when a listener cannot bind", () => {
  it("admin port taken: exit 1 naming the address and --admin-port (before: kept serving traffic without /ready)", async () => {
    const admin = await takenPort();
    const out = await runCli(["serve", "--policies", "policies", "--access-log", "off", "--port", String(await freePort()), "--admin-port", String(admin)]);
    expectFailFast(out, new RegExp(`^meshgate: cannot listen on 127\\.0\\.0\\.1:${admin} for the admin API: the address is already in use; stop what listens there or choose another --admin-port\\n$`));
  });

  it("data port taken: exit 1 naming --port", async () => {
    const port = await takenPort();
    const out = await runCli(["serve", "--policies", "policies", "--access-log", "off", "--port", String(port), "--admin-port", String(await freePort())]);
    expectFailFast(out, new RegExp(`^meshgate: cannot listen on 127\\.0\\.0\\.1:${port} for traffic: the address is already in use; stop what listens there or choose another --port\\n$`));
  });

  it("TLS listener port taken: exit 1 naming HTTPS", async () => {
    const ca = await createCa("fail-fast-ca");
    const leaf = await ca.issue({ subject: "CN=localhost", dns: ["localhost"], server: true });
    const dir = await mkdtemp(join(tmpdir(), "meshgate-ff-tls-"));
    await writeFile(join(dir, "cert.pem"), leaf.cert);
    await writeFile(join(dir, "key.pem"), leaf.key);
    const port = await takenPort();
    const out = await runCli(["serve", "--policies", "policies", "--access-log", "off", "--tls-cert", join(dir, "cert.pem"), "--tls-key", join(dir, "key.pem"), "--port", String(port), "--admin-port", String(await freePort())]);
    expectFailFast(out, new RegExp(`^meshgate: cannot listen on 127\\.0\\.0\\.1:${port} for HTTPS traffic: the address is already in use`));
  });

  it("a host that is not this machine's: exit 1 naming --host", async () => {
    // 192.0.2.0/24 is TEST-NET-1: never assigned to a real interface.
    const out = await runCli(["serve", "--policies", "policies", "--access-log", "off", "--host", "192.0.2.1", "--port", String(await freePort()), "--admin-port", String(await freePort())]);
    expectFailFast(out, /^meshgate: cannot listen on 192\.0\.2\.1:\d+ for traffic: 192\.0\.2\.1 is not an address of this machine; check --host\n$/);
  });

  it("demo with an upstream port taken: exit 1 naming the service and port (before: hung)", async () => {
    // Held here unless something (another demo) already holds it: taken either way.
    const holder = createServer();
    await new Promise<void>((resolve) => holder.once("error", () => resolve()).listen(9083, "127.0.0.1", resolve));
    holders.push(holder);
    const out = await runCli(["demo", "--port", String(await freePort()), "--admin-port", String(await freePort())]);
    expectFailFast(out, /^meshgate: cannot listen on 127\.0\.0\.1:908[1-6] for the demo upstream [a-z]+-v\d: the port is already in use \(another npm start or meshgate demo\?\); stop what listens there \(the demo policies expect ports 9081-9086\)\n$/);
  });
});

describe("serve fails fast when the config source gives no first config", () => {
  it("Redis unreachable: one line with the cause, and every Redis client closed (before: two contradictory lines, then hung)", async () => {
    // --store redis:// also makes the key store and the rate-limit store clients; all must be closed.
    const out = await runCli([...(await serveArgs()), "--store", "redis://127.0.0.1:1"]);
    expectFailFast(out, /^meshgate: no configuration: cannot read redis:\/\/127\.0\.0\.1:1 \(prefix meshgate\): cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\); check that the store is up and --store is right, or start with --wait-for-config\[=DURATION\] to wait for it\n$/);
  });

  it("nothing published under the prefix: says so and how to publish (before: hung)", async () => {
    const prefix = `ff-empty-${randomUUID()}`;
    const out = await runCli([...(await serveArgs()), "--store", REDIS, "--prefix", prefix]);
    expectFailFast(out, new RegExp(`^meshgate: no configuration: nothing has been published to redis://127\\.0\\.0\\.1:6379 \\(prefix ${prefix}\\); publish a bundle first \\(meshgate publish --policies DIR --redis URL, with the same --prefix\\), or start with --wait-for-config`));
  });

  it("a policy directory that does not exist: one line (before: a 'keeping the current configuration' line too)", async () => {
    const out = await runCli([...(await serveArgs()), "--policies", "/nonexistent/meshgate-policies"]);
    expectFailFast(out, /^meshgate: no configuration: policy directory \/nonexistent\/meshgate-policies does not exist; check --policies/);
  });

  it("an empty file store: says so", async () => {
    const file = join(await mkdtemp(join(tmpdir(), "meshgate-ff-file-")), "bundle.json");
    const out = await runCli([...(await serveArgs()), "--store", `file:${file}`]);
    expectFailFast(out, /^meshgate: no configuration: nothing has been published to file:.*bundle\.json; publish a bundle first \(meshgate publish --policies DIR --file PATH\)/);
  });

  it("invalid policies: every problem, then one verdict line, and no 'keeping' line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "meshgate-ff-bad-"));
    await writeFile(join(dir, "r.yaml"), "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: Bad_Name }\nspec: {}\n");
    const out = await runCli([...(await serveArgs()), "--policies", dir]);
    expect(out.code).toBe(1);
    const lines = out.stderr.trimEnd().split("\n");
    expect(lines[0]).toMatch(/r\.yaml:document#0: metadata\.name: must be a lower-case RFC 1123 subdomain/);
    expect(lines.at(-1)).toBe(`not started: fix the policies (meshgate validate ${dir} lists every problem)`);
    expect(out.stderr).not.toMatch(/keeping the/);
  });

  it("a bad flag after --store never leaves a Redis client behind", async () => {
    const out = await runCli(["serve", "--store", REDIS, "--port", "nope"]);
    expectFailFast(out, /^meshgate: --port must be a port number 0-65535, got "nope"\n$/);
  });
});

describe("serve --wait-for-config", () => {
  function startServe(args: string[]): { child: ChildProcess; logs: () => string; exited: Promise<Exit> } {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<Exit>((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr, ms: performance.now() - started })));
    return { child, logs: () => stderr, exited };
  }

  it("=DURATION: /ready 503 and traffic 503 no_config meanwhile, says so every few seconds, then exit 1", async () => {
    const prefix = `ff-wait-${randomUUID()}`;
    const [port, adminPort] = [await freePort(), await freePort()];
    const run = startServe(["serve", "--access-log", "off", "--store", REDIS, "--prefix", prefix, "--wait-for-config=7s", "--port", String(port), "--admin-port", String(adminPort)]);
    try {
      await until(async () => (await fetch(`http://127.0.0.1:${adminPort}/ready`).catch(() => null))?.status === 503, 10_000, "admin up with /ready 503");
      const traffic = await fetch(`http://127.0.0.1:${port}/`);
      expect(traffic.status).toBe(503);
      expect(await traffic.json()).toEqual({ error: { code: "no_config", message: "no configuration loaded yet" } });
      const out = await run.exited;
      expect(out.code).toBe(1);
      const lines = out.stderr.trimEnd().split("\n");
      const waiting = lines.filter((l) => l.includes("waiting for a first configuration (--wait-for-config): nothing has been published to"));
      // At 0 s and 5 s at least; more only if the machine is slow.
      expect(waiting.length).toBeGreaterThanOrEqual(2);
      expect(JSON.parse(waiting[0]!)).toMatchObject({ level: "warn" });
      expect(waiting[0]).toContain("/ready answers 503 meanwhile; giving up in 7s");
      expect(lines.at(-1)).toBe(`meshgate: no configuration after waiting 7s: nothing has been published to redis://127.0.0.1:6379 (prefix ${prefix}); publish a bundle first (meshgate publish --policies DIR --redis URL, with the same --prefix)`);
      expect(out.stderr).not.toMatch(/keeping the/);
      expect(out.ms).toBeGreaterThanOrEqual(7_000);
      expect(out.ms).toBeLessThan(7_000 + EXIT_WITHIN_MS);
    } finally {
      run.child.kill("SIGKILL");
    }
  });

  it("bare flag: waits until a bundle is published, then serves it and drains on SIGTERM", async () => {
    const prefix = `ff-publish-${randomUUID()}`;
    const dir = await mkdtemp(join(tmpdir(), "meshgate-ff-pub-"));
    await writeFile(join(dir, "backend.yaml"), backendYaml("web", ["http://127.0.0.1:9"]));
    await writeFile(join(dir, "route.yaml"), "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: web }\nspec:\n  rules: [{ backendRefs: [{ name: web, port: 80 }] }]\n");
    const [port, adminPort] = [await freePort(), await freePort()];
    const run = startServe(["serve", "--access-log", "off", "--store", REDIS, "--prefix", prefix, "--wait-for-config", "--port", String(port), "--admin-port", String(adminPort)]);
    try {
      await until(async () => (await fetch(`http://127.0.0.1:${adminPort}/ready`).catch(() => null))?.status === 503, 10_000, "admin up with /ready 503");
      await until(async () => run.logs().includes("waiting for a first configuration (--wait-for-config): nothing has been published"), 10_000, "the waiting message");
      expect(run.logs()).not.toContain("giving up in");
      const published = spawnSync(process.execPath, [BIN, "publish", "--policies", dir, "--redis", REDIS, "--prefix", prefix], { encoding: "utf8" });
      expect(published.status, published.stderr).toBe(0);
      await until(async () => (await fetch(`http://127.0.0.1:${adminPort}/ready`)).status === 200, 10_000, "ready after publish");
      expect((await fetch(`http://127.0.0.1:${port}/`)).headers.get("x-meshgate-config-version")).toBe("1");
      run.child.kill("SIGTERM");
      const out = await run.exited;
      expect(out.code).toBe(0);
      expect(out.stderr).toContain("configuration loaded");
      expect(out.stderr).not.toMatch(/keeping the/);
    } finally {
      run.child.kill("SIGKILL");
    }
  });

  it("refuses a bad duration and 0s", async () => {
    expectFailFast(await runCli(["serve", "--policies", "policies", "--wait-for-config=soon"]), /^meshgate: --wait-for-config takes a duration such as 30s or 5m/);
    expectFailFast(await runCli(["serve", "--policies", "policies", "--wait-for-config=0s"]), /^meshgate: --wait-for-config=0s would not wait at all/);
  });
});
