import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

// Issue 14 item 15: after a client spent its quota, requests with fresh header values evicted
// its bucket and its next request passed. Live buckets are never evicted; a full store of live
// buckets answers new keys by failureMode and says so in a metric.
let upstream: TestUpstream;
let gw: TestGateway;
const agent = new Agent({ connections: 8 });

const policy = (name: string, failureMode: string) => `apiVersion: meshgate.dev/v1alpha1
kind: RateLimitPolicy
metadata: { name: ${name} }
spec:
  targetRefs: [{ kind: HTTPRoute, name: app, sectionName: ${name} }]
  failureMode: ${failureMode}
  rules: [{ name: per-user, key: header, keyHeader: x-user, limit: { requests: 2, period: 60s } }]
`;

beforeAll(async () => {
  upstream = await startUpstream("app");
  gw = await startTestGateway(
    {
      "b.yaml": backendYaml("app", [upstream.url]),
      "r.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: app }
spec:
  rules:
    - { name: open, matches: [{ path: { value: /open } }], backendRefs: [{ name: app }] }
    - { name: closed, matches: [{ path: { value: /closed } }], backendRefs: [{ name: app }] }
`,
      "l.yaml": `${policy("open", "open")}---\n${policy("closed", "closed")}`,
    },
    { rateLimitLocalKeys: 50 },
  );
});

afterAll(async () => {
  await agent.close();
  await gw?.close();
  await upstream?.close();
});

async function send(path: string, user: string): Promise<number> {
  const res = await request(`${gw.url}${path}`, { headers: { "x-user": user }, dispatcher: agent });
  await res.body.dump();
  return res.statusCode;
}

describe("rate-limit buckets under a flood of fresh keys", () => {
  it("keeps a spent bucket spent; new keys past capacity follow failureMode and are counted", async () => {
    expect([await send("/closed", "victim"), await send("/closed", "victim"), await send("/closed", "victim")]).toEqual([200, 200, 429]);
    const flood: number[] = [];
    for (let i = 0; i < 200; i++) flood.push(await send(i % 2 === 0 ? "/closed" : "/open", `fresh-${i}`));
    // The 49 free slots went to the first fresh keys; the other 151 met a store full of live
    // buckets: /closed (even i) answers 503, /open (odd i) lets them through.
    expect(flood.slice(0, 49)).toEqual(new Array(49).fill(200));
    expect(flood.slice(49).filter((_, j) => (49 + j) % 2 === 0)).toEqual(new Array(75).fill(503));
    expect(flood.slice(49).filter((_, j) => (49 + j) % 2 === 1)).toEqual(new Array(76).fill(200));
    expect(await send("/closed", "victim")).toBe(429);

    const res = await request(`${gw.url}/closed`, { headers: { "x-user": "one-more" }, dispatcher: agent });
    const body = (await res.body.json()) as { error: { code: string; message: string } };
    expect(res.statusCode).toBe(503);
    expect(body.error.code).toBe("rate_limit_unavailable");
    expect(body.error.message).toContain("full of live buckets");
    expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);

    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/meshgate_ratelimit_decisions_total\{policy="default\/closed",rule="per-user",result="store_full_closed"\} 76/);
    expect(metrics).toMatch(/meshgate_ratelimit_decisions_total\{policy="default\/open",rule="per-user",result="store_full_open"\} 76/);
  });
});
