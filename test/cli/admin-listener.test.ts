import { connect } from "node:net";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCliGateway, type CliGateway } from "../support/cli-gateway.js";
import { backendYaml, prefixRouteYaml } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

const TOKEN = "s3cret-admin-token-0123456789";
let up: TestUpstream;
let dir: string;
let gw: CliGateway;

beforeAll(async () => {
  up = await startUpstream("admin-test");
  dir = await mkdtemp(join(tmpdir(), "meshgate-admin-"));
  await writeFile(join(dir, "b.yaml"), backendYaml("web", [up.url]));
  await writeFile(join(dir, "r.yaml"), prefixRouteYaml("web", "/", "web"));
  await writeFile(join(dir, "token"), `${TOKEN}\n`);
  // The data plane on another loopback address, as `--host 0.0.0.0` would be on a pod.
  gw = await startCliGateway(["--policies", dir, "--no-watch", "--host", "127.0.0.2", "--admin-token-file", join(dir, "token"), "--path-reject", "none"]);
});

afterAll(async () => {
  expect(await gw?.stop()).toBe(0);
  await up?.close();
  await rm(dir, { recursive: true, force: true });
});

const reachable = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, host, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

describe("admin listener", () => {
  it("stays on 127.0.0.1 when --host is another address", async () => {
    const adminPort = Number(new URL(gw.adminUrl).port);
    const port = Number(new URL(gw.url).port);
    expect(await reachable("127.0.0.1", adminPort)).toBe(true);
    expect(await reachable("127.0.0.2", adminPort)).toBe(false);
    expect(await reachable("127.0.0.2", port)).toBe(true);
    expect((await fetch(`http://127.0.0.2:${port}/x`)).status).toBe(200);
  });

  it("needs the bearer token everywhere but /ready and /healthz", async () => {
    expect((await fetch(`${gw.adminUrl}/ready`)).status).toBe(200);
    expect((await fetch(`${gw.adminUrl}/healthz`)).status).toBe(200);
    for (const path of ["/config", "/metrics", "/explain?url=http://x/", "/dashboard", "/", "/nope"]) {
      for (const authorization of [undefined, "Bearer wrong", `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, TOKEN, `bearer ${TOKEN}x`, "Bearer "]) {
        const res = await fetch(`${gw.adminUrl}${path}`, { headers: authorization === undefined ? {} : { authorization }, redirect: "manual" });
        expect(res.status, `${path} ${authorization}`).toBe(401);
        expect(res.headers.get("www-authenticate")).toContain("Bearer");
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthenticated");
      }
    }
    const ok = await fetch(`${gw.adminUrl}/config`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect((await fetch(`${gw.adminUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it("warns at start that --path-reject none opens DENY rules to bypasses", () => {
    expect(gw.logs()).toMatch(/path rejections off: encoded-slash.*backslash.*semicolon.*can be bypassed/);
  });
});
