import { spawnSync } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCliGateway } from "../support/cli-gateway.js";
import { freePort } from "../support/free-port.js";
import { backendYaml } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

const BIN = join(process.cwd(), "bin", "meshgate.js");
let up: TestUpstream;
let dir: string;

beforeAll(async () => {
  up = await startUpstream("slow");
  // /hang answers after 20 s: far past any grace below; /short after 300 ms.
  up.respond = (req, res) => setTimeout(() => res.writeHead(200).end(req.url), req.url === "/hang" ? 20_000 : 300);
  dir = await mkdtemp(join(tmpdir(), "mg-grace-"));
  await writeFile(join(dir, "b.yaml"), backendYaml("slow", [up.url]));
  await writeFile(join(dir, "r.yaml"), `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: web }\nspec:\n  rules: [{ backendRefs: [{ name: slow }], timeouts: { request: 0s } }]\n`);
});

afterAll(async () => {
  await up?.close();
});

describe("serve --shutdown-grace", () => {
  it("finishes requests that end within the grace, cuts the rest when it is over, and exits 0", async () => {
    const gw = await startCliGateway(["--policies", dir, "--shutdown-grace", "1500ms"]);
    const short = fetch(`${gw.url}/short`);
    const hung = fetch(`${gw.url}/hang`).then(
      (r) => `status ${r.status}`,
      () => "cut",
    );
    await new Promise((r) => setTimeout(r, 100));
    const signalled = performance.now();
    const code = await gw.stop();
    const took = performance.now() - signalled;
    expect(code).toBe(0);
    const res = await short;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("/short");
    expect(await hung).toBe("cut");
    // The grace, not the 8 s default and not the upstream's 20 s, decided when it ended.
    expect(took).toBeGreaterThanOrEqual(1_400);
    expect(took).toBeLessThan(7_000);
    expect(gw.logs()).toContain("received SIGTERM; draining (up to 1500 ms)");
  });

  it.each([["abc"], ["8"], ["2h"]])("refuses --shutdown-grace %s with a precise message", async (value) => {
    const out = spawnSync(process.execPath, [BIN, "serve", "--policies", dir, "--port", String(await freePort()), "--admin-port", String(await freePort()), "--shutdown-grace", value], { encoding: "utf8", timeout: 10_000 });
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(value === "2h" ? /--shutdown-grace must be at most 1h, got "2h"/ : new RegExp(`--shutdown-grace must be a duration such as 8s or 500ms, got "${value}"`));
  });
});
