import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCliGateway } from "../support/cli-gateway.js";
import { backendYaml, prefixRouteYaml } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

// The path a user (and the Dockerfile) takes: `npm pack` in a checkout without dist/, then
// `npm install ./meshgate-*.tgz` into an empty folder, then the installed bin, no repository around.
const run = promisify(execFile);
const REPO = process.cwd();
const npmEnv = { ...process.env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" };

let work: string;
let tarball: string;
let packed: string[];
let app: string;
let up: TestUpstream;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "meshgate-pack-"));
  // What the Dockerfile's build stage copies, and nothing else (no dist/): if the image would lack
  // a file the build needs, this pack fails too. node_modules is linked for tsc only.
  const checkout = join(work, "checkout");
  await mkdir(checkout);
  const copies = dockerBuildStageCopies(await readFile(join(REPO, "Dockerfile"), "utf8"));
  expect(copies).toEqual(expect.arrayContaining(["package.json", "src"]));
  for (const entry of copies) {
    await cp(join(REPO, entry), join(checkout, entry), { recursive: true });
  }
  await symlink(join(REPO, "node_modules"), join(checkout, "node_modules"), "dir");
  const out = join(work, "out");
  await mkdir(out);
  // Lifecycle scripts on: prepack cleans dist/, prepare builds it.
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", out], { cwd: checkout, env: npmEnv, maxBuffer: 16 << 20 });
  const info = JSON.parse(stdout.slice(stdout.indexOf("["))) as [{ filename: string; files: { path: string }[] }];
  tarball = join(out, info[0].filename);
  packed = info[0].files.map((f) => f.path);
  app = join(work, "app");
  await mkdir(app);
  // Dependencies come from the npm cache `npm ci` filled (the registry only for what it lacks).
  await run("npm", ["install", "--omit=dev", "--prefer-offline", "--no-package-lock", tarball], { cwd: app, env: npmEnv, maxBuffer: 16 << 20 });
  up = await startUpstream("packaged");
}, 180_000);

afterAll(async () => {
  await up?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** The sources of every `COPY` in the Dockerfile's `build` stage (not `COPY --from`). */
function dockerBuildStageCopies(dockerfile: string): string[] {
  const stage = dockerfile.split(/^FROM /m).find((s) => /^\S+ AS build$/m.test(s.split("\n")[0] ?? "")) ?? "";
  return stage
    .split("\n")
    .filter((l) => /^COPY (?!--)/.test(l))
    .flatMap((l) => l.trim().split(/\s+/).slice(1, -1));
}

describe("npm pack", () => {

  it("ships the built CLI, the demo policies and the license, and nothing from the workbench", () => {
    expect(packed).toEqual(expect.arrayContaining(["package.json", "README.md", "LICENSE", "bin/meshgate.js", "dist/cli/main.js", "dist/cli-bundle/main.js", "dist/cli-bundle/policy-worker.js", "dist/index.js", "dist/index.d.ts", "policies/bookinfo.yaml"]));
    const stray = packed.filter((p) => !/^(package\.json|README\.md|LICENSE|bin\/|dist\/|policies\/)/.test(p) || /\.test\.(js|d\.ts)$/.test(p));
    expect(stray).toEqual([]);
  });

  it("installs only runtime dependencies", async () => {
    const installed = await readdir(join(app, "node_modules"));
    expect(installed).toEqual(expect.arrayContaining(["meshgate", "hono", "undici", "yaml", "zod"]));
    for (const dev of ["typescript", "vitest", "wrangler", "playwright-core", "@cloudflare"]) expect(installed).not.toContain(dev);
  });

  it("carries the Apache-2.0 license package.json names", async () => {
    const pkg = JSON.parse(await readFile(join(app, "node_modules", "meshgate", "package.json"), "utf8")) as { license: string };
    expect(pkg.license).toBe("Apache-2.0");
    expect(await readFile(join(app, "node_modules", "meshgate", "LICENSE"), "utf8")).toMatch(/Apache License\s+Version 2\.0/);
  });
});

describe("the installed package, outside the repository", () => {
  it("validates the policies it ships and refuses a broken one with file and field", async () => {
    const ok = await run("npx", ["--no-install", "meshgate", "validate", join("node_modules", "meshgate", "policies")], { cwd: app, env: npmEnv });
    expect(ok.stdout).toMatch(/^valid: \d+ file\(s\)/m);
    const bad = join(work, "bad");
    await mkdir(bad);
    await writeFile(join(bad, "route.yaml"), "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r }\nspec:\n  hostnames: ['bad host']\n");
    const refused = await run(join(app, "node_modules", ".bin", "meshgate"), ["validate", bad], { cwd: app }).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toContain("route.yaml:document#0: spec.hostnames[0]");
  });

  it("serves a route, answers /ready, and exits 0 on SIGTERM", async () => {
    const dir = join(work, "policies");
    await mkdir(dir);
    await writeFile(join(dir, "backend.yaml"), backendYaml("web", [up.url]));
    await writeFile(join(dir, "route.yaml"), prefixRouteYaml("web", "/", "web"));
    const gw = await startCliGateway(["--policies", dir], { bin: join(app, "node_modules", ".bin", "meshgate"), cwd: app });
    try {
      const res = await fetch(`${gw.url}/hello`);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-upstream")).toBe("packaged");
      expect(((await res.json()) as { url: string }).url).toBe("/hello");
      expect((await fetch(`${gw.adminUrl}/healthz`)).status).toBe(200);
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });
});
