import { spawnSync } from "node:child_process";
import { request as httpRequest } from "node:http";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTING_CASES, routingPolicies } from "../shared/routing-table.js";
import { until } from "../support/cli-gateway.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

let up: TestUpstream;
let gw: TestGateway;
let logFile: string;

const SPLIT = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: canary }
spec:
  hostnames: [canary.example.com]
  rules:
    - backendRefs:
        - { name: echo, weight: 80, filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: x-routed-to, value: stable }] } }] }
        - { name: echo, weight: 20, filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: x-routed-to, value: canary }] } }] }
`;

interface Trail {
  routing: { considered: { rule: string; result: string }[] };
  rule?: { id: string };
  outcome?: { status: number; error?: string; response?: { status: number; location: string | null } };
  balance?: { backendRefs: { backend: string; share: number; resolved: boolean }[] };
}

beforeAll(async () => {
  up = await startUpstream("echo");
  logFile = join(await mkdtemp(join(tmpdir(), "meshgate-explain-")), "access.log");
  const files = Object.fromEntries(routingPolicies(up.url).map((s) => [s.name, s.text]));
  gw = await startTestGateway({ ...files, "split.yaml": SPLIT }, { accessLog: logFile });
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
});

function send(url: string, method: string, headers: Record<string, string>): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${gw.url}${target.pathname}${target.search}`, { method, headers: { ...headers, host: target.host } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

async function explainVia(method: string, url: string, headers: Record<string, string>): Promise<Trail> {
  const res = await fetch(`${gw.adminUrl}/explain`, { method: "POST", body: JSON.stringify({ method, url, headers }) });
  expect(res.status).toBe(200);
  return (await res.json()) as Trail;
}

describe("explain agrees with what the gateway does", () => {
  it.each(ROUTING_CASES.map((c, i) => ({ ...c, i })))("$name", async (c) => {
    const requestId = `explain-case-${c.i}`;
    const status = await send(c.url, c.method ?? "GET", { ...(c.headers ?? {}), "x-request-id": requestId });
    const trail = await explainVia(c.method ?? "GET", c.url, c.headers ?? {});
    await until(async () => (await readFile(logFile, "utf8")).includes(requestId), 3_000, "access log line");
    const served = (await readFile(logFile, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { request_id: string; route_name: string | null }).find((e) => e.request_id === requestId)!;
    const matched = trail.routing.considered.find((x) => x.result === "matched")?.rule ?? null;
    expect(matched).toBe(served.route_name);
    if (status === 404) expect(trail.outcome).toEqual({ status: 404, error: "no_route" });
    if (status === 301) expect(trail.outcome?.response?.status).toBe(301);
    if (status === 500) expect(trail.balance?.backendRefs.some((r) => !r.resolved)).toBe(true);
    // every rule considered before the match says why it did not match
    const before = trail.routing.considered.slice(0, trail.routing.considered.findIndex((x) => x.result === "matched"));
    for (const x of before) expect(x.result).toMatch(/^no match: /);
  });

  it("explains a header mismatch precisely", async () => {
    const trail = await explainVia("GET", "http://any.test/h", { "x-canary": "no" });
    const canary = trail.routing.considered.find((x) => x.rule === "default/paths/rule-3")!;
    expect(canary.result).toBe('no match: header x-canary is "no", wanted "yes"');
  });

  it("gives the weighted split the gateway then follows", async () => {
    const trail = await explainVia("GET", "http://canary.example.com/", {});
    expect(trail.balance!.backendRefs.map((r) => r.share)).toEqual([80, 20]);
    let canary = 0;
    const n = 500;
    for (let i = 0; i < n; i++) {
      const res = await new Promise<string>((resolve, reject) => {
        const req = httpRequest(`${gw.url}/`, { headers: { host: "canary.example.com" } }, (r) => {
          let body = "";
          r.on("data", (c: Buffer) => (body += c.toString()));
          r.on("end", () => resolve(body));
        });
        req.on("error", reject);
        req.end();
      });
      if ((JSON.parse(res) as { headers: Record<string, string> }).headers["x-routed-to"] === "canary") canary++;
    }
    // Binomial(500, 0.2): mean 100, sd 8.9; 5 sd either side.
    expect(canary).toBeGreaterThan(55);
    expect(canary).toBeLessThan(145);
  });

  it("works offline from the CLI with the same answer", async () => {
    const out = spawnSync(process.execPath, [join(process.cwd(), "bin", "meshgate.js"), "explain", "--json", "--policies", gw.dir, "GET", "http://api.example.com/who", "-H", "x-any: 1"], { encoding: "utf8" });
    expect(out.status).toBe(0);
    const trail = JSON.parse(out.stdout) as Trail;
    expect(trail.rule?.id).toBe("default/hosts-exact/rule-0");
    expect(trail).toEqual(await explainVia("GET", "http://api.example.com/who", { "x-any": "1" }));
  });

  it("a relative URL on the admin API is a 400 that says to give a full URL", async () => {
    const res = await fetch(`${gw.adminUrl}/explain?url=${encodeURIComponent("/who")}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: "bad_request", message: '"/who" is not a full URL: give one such as http://example.com/who (a host header, if given, still picks the route)' } });
  });
});
