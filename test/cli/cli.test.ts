import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/free-port.js";
import { backendYaml } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

const BIN = join(process.cwd(), "bin", "meshgate.js");
let up: TestUpstream;
let dir: string;

beforeAll(async () => {
  up = await startUpstream("cli");
  up.respond = (req, res) => setTimeout(() => res.writeHead(200, { "x-upstream": "cli" }).end(req.url), req.url === "/slow" ? 1_000 : 0);
  dir = await mkdtemp(join(tmpdir(), "meshgate-cli-"));
  await writeFile(join(dir, "backend.yaml"), backendYaml("web", [up.url]));
  await writeFile(join(dir, "route.yml"), `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web }
spec:
  rules: [{ backendRefs: [{ name: web, port: 80 }] }]
`);
});

afterAll(async () => {
  await up?.close();
});

describe("meshgate validate", () => {
  it("accepts a valid directory", () => {
    const out = spawnSync(process.execPath, [BIN, "validate", dir], { encoding: "utf8" });
    expect(out.status).toBe(0);
    expect(out.stdout).toContain("valid: 2 file(s), 1 HTTPRoute(s) with 1 rule(s), 1 Backend(s)");
  });

  it("refuses an empty folder, and an empty or comments-only file among good ones", async () => {
    const empty = await mkdtemp(join(tmpdir(), "meshgate-empty-"));
    let out = spawnSync(process.execPath, [BIN, "validate", empty], { encoding: "utf8" });
    expect(out.status).toBe(1);
    expect(out.stderr).toContain(`${empty}:document#0: (document): no .yaml, .yml or .json policy files here`);
    await writeFile(join(empty, "notes.txt"), "not a policy");
    expect(spawnSync(process.execPath, [BIN, "validate", empty], { encoding: "utf8" }).status).toBe(1);
    await writeFile(join(empty, "empty.yaml"), "");
    out = spawnSync(process.execPath, [BIN, "validate", join(empty, "empty.yaml")], { encoding: "utf8" });
    expect(out.status).toBe(1);
    expect(out.stderr).toContain("empty.yaml:document#0: (document): the file holds no documents (empty, or comments only)");
    await writeFile(join(empty, "backend.yaml"), backendYaml("web", [up.url]));
    await writeFile(join(empty, "comments.yml"), "# routes go here\n---\n");
    out = spawnSync(process.execPath, [BIN, "validate", empty], { encoding: "utf8" });
    expect(out.status).toBe(1);
    expect(out.stderr).toContain("comments.yml:document#0: (document): the file holds no documents");
    expect(out.stderr.trim().split("\n").at(-1)).toMatch(/^invalid: 2 error\(s\)/);
  });

  it("prints every error as file:document#index: field.path: message and exits non-zero", async () => {
    const bad = await mkdtemp(join(tmpdir(), "meshgate-bad-"));
    await writeFile(join(bad, "routes.yaml"), `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ok }
spec: {}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: broken }
spec:
  hostnames: ["bad host"]
  rules:
    - matches: [{ path: { type: Exact, value: relative } }]
      filters: [{ type: RequestRedirect, requestRedirect: { statusCode: 399 } }]
`);
    await writeFile(join(bad, "other.json"), JSON.stringify({ apiVersion: "meshgate.dev/v1alpha1", kind: "Backend", metadata: { name: "x" }, spec: { endpoints: [{ url: "ftp://a" }] } }));
    await writeFile(join(bad, "syntax.yaml"), "kind: [unclosed\n");
    const out = spawnSync(process.execPath, [BIN, "validate", bad], { encoding: "utf8" });
    expect(out.status).toBe(1);
    const lines = out.stderr.trim().split("\n");
    expect(lines).toContain(`${rel(bad, "routes.yaml")}:document#1: spec.hostnames[0]: must be a hostname such as api.example.com or *.example.com (no port, no IP)`);
    expect(lines).toContain(`${rel(bad, "routes.yaml")}:document#1: spec.rules[0].matches[0].path.value: Exact path must start with / (got "relative")`);
    expect(lines).toContain(`${rel(bad, "routes.yaml")}:document#1: spec.rules[0].filters[0].requestRedirect.statusCode: statusCode must be one of 301, 302, 303, 307, 308`);
    expect(lines.some((l) => l.startsWith(`${rel(bad, "other.json")}:document#0: spec.endpoints[0].url: scheme must be http or https`))).toBe(true);
    expect(lines.some((l) => l.startsWith(`${rel(bad, "syntax.yaml")}:document#0: (document): invalid YAML (line `))).toBe(true);
    expect(lines.at(-1)).toMatch(/^invalid: 5 error\(s\)/);
  });
});

describe("meshgate serve", () => {
  it("becomes ready, proxies, and drains in-flight requests on SIGTERM, exiting 0", async () => {
    const [port, adminPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [BIN, "serve", "--policies", dir, "--port", String(port), "--admin-port", String(adminPort)], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on("exit", (code) => resolve({ code, at: Date.now() })));
    try {
      await waitReady(`http://127.0.0.1:${adminPort}/ready`);
      const res = await fetch(`http://127.0.0.1:${port}/hello?x=1`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("/hello?x=1");
      const inFlight = fetch(`http://127.0.0.1:${port}/slow`);
      await new Promise((r) => setTimeout(r, 200));
      const signalledAt = Date.now();
      child.kill("SIGTERM");
      const slow = await inFlight;
      expect(slow.status).toBe(200);
      expect(await slow.text()).toBe("/slow");
      const { code, at } = await exited;
      expect(code).toBe(0);
      expect(at - signalledAt).toBeLessThan(10_000);
    } finally {
      child.kill("SIGKILL");
    }
    expect(stderr).toContain("received SIGTERM; draining");
  });

  it("refuses to start on invalid policies, naming the problem", async () => {
    const bad = await mkdtemp(join(tmpdir(), "meshgate-bad-"));
    await writeFile(join(bad, "r.yaml"), "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: Bad_Name }\nspec: {}\n");
    const out = spawnSync(process.execPath, [BIN, "serve", "--policies", bad, "--port", String(await freePort()), "--admin-port", String(await freePort())], { encoding: "utf8", timeout: 10_000 });
    expect(out.status).toBe(1);
    expect(out.stderr).toContain("r.yaml:document#0: metadata.name: must be a lower-case RFC 1123 subdomain");
  });
});

function rel(dir: string, file: string): string {
  return join(dir, file);
}

async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready within 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("meshgate publish / rollback with a file store", () => {
  it("serves a published bundle, follows a new publish, and rolls back", async () => {
    const { startCliGateway, until } = await import("../support/cli-gateway.js");
    const store = join(await mkdtemp(join(tmpdir(), "meshgate-store-")), "bundle.json");
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
    const first = run("publish", "--policies", dir, "--file", store, "--publisher", "ci");
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^published version 1 \([0-9a-f]{12}\) to file:/);
    const gw = await startCliGateway(["--store", `file:${store}`]);
    try {
      const version = async () => (await fetch(`${gw.url}/x`)).headers.get("x-meshgate-config-version");
      expect(await version()).toBe("1");
      await writeFile(join(dir, "extra.yaml"), "# a comment-only file is refused\n");
      const refused = run("publish", "--policies", dir, "--file", store);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain("extra.yaml:document#0: (document): the file holds no documents");
      await writeFile(join(dir, "extra.yaml"), backendYaml("extra", [up.url]));
      expect(run("publish", "--policies", dir, "--file", store).status).toBe(0);
      await until(async () => (await version()) === "2", 5_000, "file store reload");
      const back = run("rollback", "--file", store);
      expect(back.stdout).toContain("rolled back: version 3 now serves the policies of version 1");
      await until(async () => (await version()) === "3", 5_000, "rollback reload");
      const history = run("history", "--file", store).stdout.trim().split("\n").map((l) => l.split("\t")[0]);
      expect(history).toEqual(["3", "2", "1"]);
    } finally {
      await gw.stop();
      await import("node:fs/promises").then((fs) => fs.rm(join(dir, "extra.yaml"), { force: true }));
    }
  });
});
