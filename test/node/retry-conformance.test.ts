import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RETRY_CASES, retryPolicies, runRetryCase } from "../shared/retry-table.js";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { startRetrySimulation, type RetrySimulation } from "../support/retry-simulation.js";

let sim: RetrySimulation;
let gw: TestGateway;

beforeAll(async () => {
  sim = await startRetrySimulation();
  gw = await startTestGateway({
    ...Object.fromEntries(retryPolicies(sim.url).map((f) => [f.name, f.text])),
    // Its own Backend, so its endpoint health starts clean whatever the table did before.
    "accounting.yaml": `${backendYaml("accounting", [sim.url])}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: accounting }
spec:
  rules:
    - matches: [{ path: { value: /accounting } }]
      retry: { attempts: 3 }
      backendRefs: [{ name: accounting }]
    - matches: [{ path: { value: /no-retry } }]
      backendRefs: [{ name: accounting }]
`,
  });
});

afterAll(async () => {
  await gw?.close();
  await sim?.close();
});

describe("Gateway API retry conformance on Node", () => {
  it.each(RETRY_CASES)("$name", async (rc) => {
    expect(await runRetryCase(rc, gw.url, sim.url, (url) => fetch(url))).toEqual([]);
  });

  it("each reset counts against the endpoint for outlier detection (a gateway error) and spends the retry budget", async () => {
    const run = (succeedAfter: string, status: number, attempts: number) => runRetryCase({ name: "", path: "/accounting", query: { succeedAfter }, status: [status], attempts }, gw.url, sim.url, (url) => fetch(url));
    const health = () => gw.gateway.upstreams.health.backend("default/accounting").endpoint(sim.url);
    expect(await run("0", 200, 1)).toEqual([]);
    const retries = gw.gateway.upstreams.counters.retries;
    expect(await run("4", 503, 4)).toEqual([]);
    expect(health().consecutiveGatewayErrors).toBe(4);
    expect(gw.gateway.upstreams.counters.retries - retries).toBe(3);
    // The fifth reset in a row trips the always-on gateway-error ejection (5), as for any reset.
    expect(await run("1", 200, 2)).toEqual([]);
    expect(health().ejections).toBe(1);
  });

  it("without a retry stanza a reset is tried once and answers 502 upstream_reset", async () => {
    expect(await runRetryCase({ name: "", path: "/no-retry", query: { succeedAfter: "1" }, status: [502], attempts: 1, errorCode: "upstream_reset" }, gw.url, sim.url, (url) => fetch(url))).toEqual([]);
  });

  it("a POST reset after the body was read is retried with its body intact (route retry covers any method)", async () => {
    const uuid = crypto.randomUUID();
    const res = await fetch(`${gw.url}/retry/no-status-code-attempts-3?succeedAfter=1&uuid=${uuid}`, { method: "POST", body: "payload" });
    expect(res.status).toBe(200);
    expect(await (await fetch(`${sim.url}/attempts?uuid=${uuid}`)).text()).toBe("2");
  });
});
