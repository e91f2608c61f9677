import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

let one: TestUpstream, two: TestUpstream;
let gw: TestGateway;

const routeTo = (backend: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web }
spec:
  rules: [{ backendRefs: [{ name: ${backend} }] }]
`;

interface ConfigView {
  version: string;
  hash: string;
  source: { location: string; files: string[] };
  loadedAt: string;
  lastReloadError: { message: string } | null;
}

beforeAll(async () => {
  [one, two] = (await Promise.all(["one", "two"].map(startUpstream))) as [TestUpstream, TestUpstream];
  one.respond = (req, res) => {
    const delay = req.url === "/slow" ? 400 : 0;
    setTimeout(() => res.writeHead(200, { "x-upstream": "one" }).end("one"), delay);
  };
  gw = await startTestGateway({ "b.yaml": [backendYaml("one", [one.url]), backendYaml("two", [two.url])].join("---\n"), "r.yaml": routeTo("one") }, { watch: true });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([one, two].map((u) => u?.close()));
});

const config = async () => (await (await fetch(`${gw.adminUrl}/config`)).json()) as ConfigView;

describe("hot reload", () => {
  it("reports version, hash and source in /config", async () => {
    const c = await config();
    expect(c.version).toMatch(/^[0-9a-f]{12}$/);
    expect(c.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(c.hash.startsWith(c.version)).toBe(true);
    expect(c.source.location).toBe(gw.dir);
    expect(c.source.files.length).toBe(2);
  });

  it("swaps a valid change without failing a request in flight", async () => {
    const before = await config();
    const inFlight = fetch(`${gw.url}/slow`);
    await new Promise((r) => setTimeout(r, 50));
    await gw.write({ "r.yaml": routeTo("two") });
    const slow = await inFlight;
    expect(slow.status).toBe(200);
    expect(await slow.text()).toBe("one");
    const res = await fetch(`${gw.url}/`);
    expect(res.headers.get("x-upstream")).toBe("two");
    const after = await config();
    expect(after.version).not.toBe(before.version);
  });

  it("keeps the last good snapshot on an invalid change and says exactly why", async () => {
    const good = await config();
    await gw.write({ "r.yaml": routeTo("two").replace("backendRefs", "backendRefz").replace("rules: [{", "rules: [{ matches: [{ path: { type: Exact, value: nope } }],") });
    const c = await config();
    expect(c.version).toBe(good.version);
    expect(c.lastReloadError?.message).toContain("r.yaml:document#0: spec.rules[0].matches[0].path.value:");
    expect((await fetch(`${gw.url}/`)).headers.get("x-upstream")).toBe("two");
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/meshgate_config_reloads_total\{result="error"\} [1-9]/);
  });

  it("picks up a file change through the directory watcher", async () => {
    const { writeFile } = await import("node:fs/promises");
    await writeFile(`${gw.dir}/r.yaml`, routeTo("one"));
    const deadline = Date.now() + 5_000;
    for (;;) {
      const res = await fetch(`${gw.url}/`);
      if (res.headers.get("x-upstream") === "one") break;
      if (Date.now() > deadline) throw new Error("watcher did not reload within 5 s");
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await config()).lastReloadError).toBeNull();
  });
});
