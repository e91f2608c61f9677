import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCliGateway, until, type CliGateway } from "../support/cli-gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

// docs/first-route.md, step by step: its policy files, its token command, its requests.
const run = promisify(execFile);
const DOCS = join(process.cwd(), "docs");
let v1: TestUpstream, v2: TestUpstream;
let dir: string;
let gw: CliGateway;
let page: string;

beforeAll(async () => {
  page = await readFile(join(DOCS, "first-route.md"), "utf8");
  [v1, v2] = (await Promise.all(["v1", "v2"].map(startUpstream))) as [TestUpstream, TestUpstream];
  for (const u of [v1, v2]) u.respond = (_req, res) => res.end(`${u.name}\n`);
  dir = await mkdtemp(join(tmpdir(), "meshgate-first-route-"));
  // The page's upstreams listen on 9001/9002; the test's on free ports.
  const backends = (await readFile(join(DOCS, "first-route", "backends.yaml"), "utf8")).replace("127.0.0.1:9001", `127.0.0.1:${v1.port}`).replace("127.0.0.1:9002", `127.0.0.1:${v2.port}`);
  await writeFile(join(dir, "backends.yaml"), backends);
  await copyFile(join(DOCS, "first-route", "route.yaml"), join(dir, "route.yaml"));
  gw = await startCliGateway(["--policies", dir]);
});

afterAll(async () => {
  await gw?.stop();
  await Promise.all([v1, v2].map((u) => u?.close()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

const get = async (headers: Record<string, string> = {}) => {
  const res = await fetch(`${gw.url}/`, { headers });
  return { status: res.status, text: await res.text() };
};

describe("docs/first-route.md", () => {
  it("step 2: splits about 90/10 and sends the canary header to v2", async () => {
    expect(page).toContain("cp docs/first-route/backends.yaml docs/first-route/route.yaml my-policies/");
    const seen = { "v1\n": 0, "v2\n": 0 } as Record<string, number>;
    for (let i = 0; i < 200; i++) seen[(await get()).text]!++;
    expect(seen["v1\n"]! + seen["v2\n"]!).toBe(200);
    expect(seen["v2\n"]).toBeGreaterThan(4); // Binomial(200, 0.1): mean 20, sd 4.2
    expect(seen["v2\n"]).toBeLessThan(45);
    for (let i = 0; i < 10; i++) expect((await get({ "x-canary": "always" })).text).toBe("v2\n");
  });

  it("step 3: the JWT policy reloads in, refuses without a token and accepts the page's token", async () => {
    await copyFile(join(DOCS, "first-route", "jwt.yaml"), join(dir, "jwt.yaml"));
    await until(async () => (await get()).status === 401, 10_000, "jwt.yaml reloaded");
    expect(JSON.parse((await get()).text).error.code).toBe("jwt_missing");
    const command = /TOKEN=\$\((node -e ".*")\)\n/.exec(page)?.[1];
    expect(command).toBeDefined();
    const { stdout } = await run("sh", ["-c", command!], { cwd: process.cwd() });
    const token = stdout.trim();
    expect(token.split(".")).toHaveLength(3);
    const ok = await get({ authorization: `Bearer ${token}` });
    expect(ok.status).toBe(200);
    expect(["v1\n", "v2\n"]).toContain(ok.text);
    expect((await get({ authorization: `Bearer ${token}x` })).status).toBe(401);

    // step 4: 3 per 10 s per caller, the fourth is 429.
    await copyFile(join(DOCS, "first-route", "rate-limit.yaml"), join(dir, "rate-limit.yaml"));
    await until(async () => (await fetch(`${gw.adminUrl}/config`).then((r) => r.json() as Promise<{ counts: { rateLimitPolicies: number } }>)).counts.rateLimitPolicies === 1, 10_000, "rate-limit.yaml reloaded");
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await get({ authorization: `Bearer ${token}` })).status);
    expect(codes).toEqual([200, 200, 200, 429]);
  });
});
