import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { sendWithHost } from "../support/send-with-host.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

let up: TestUpstream;
let gw: TestGateway;

beforeAll(async () => {
  up = await startUpstream("app");
  gw = await startTestGateway({
    "backend.yaml": backendYaml("app", [up.url]),
    "gateway.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: edge }
spec:
  gatewayClassName: meshgate
  listeners:
    - { name: shop, hostname: "*.shop.test", port: 80, protocol: HTTP }
`,
    "routes.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: attached }
spec:
  parentRefs: [{ name: edge }]
  rules: [{ backendRefs: [{ name: app }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: detached }
spec:
  hostnames: [admin.test]
  rules: [{ backendRefs: [{ name: app }] }]
`,
  });
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
});

describe("a Gateway document through the real gateway", () => {
  it("serves an attached route on its listener's hostnames only", async () => {
    expect((await sendWithHost(gw.url, "http://eu.shop.test/x", "GET", {})).status).toBe(200);
    const other = await sendWithHost(gw.url, "http://other.test/x", "GET", {});
    expect(other.status).toBe(404);
  });

  it("does not serve a route without parentRefs, and reports it in /config warnings", async () => {
    expect((await sendWithHost(gw.url, "http://admin.test/x", "GET", {})).status).toBe(404);
    const config = (await (await fetch(`${gw.adminUrl}/config`)).json()) as { warnings?: string[] };
    expect(JSON.stringify(config)).toContain("route names no parentRefs; with Gateway documents present it is not served");
  });
});
