import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { echoClient, startEchoServer, type EchoClientInstance, type EchoServer } from "../support/grpc-echo.js";

/** Gateway API mesh conformance for GRPCRoute (grpcroute-weight, grpcroute-request-header-modifier), translated: Service parents on a GRPCRoute. */

let v1: EchoServer, v2: EchoServer;
let gw: TestGateway;
const clients: EchoClientInstance[] = [];

beforeAll(async () => {
  [v1, v2] = await Promise.all([startEchoServer("echo-v1"), startEchoServer("echo-v2")]);
  gw = await startTestGateway({
    "b.yaml": [backendYaml("echo-v1", [v1.url]), backendYaml("echo-v2", [v2.url])].join("---\n"),
    "r.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: mesh-grpc }
spec:
  parentRefs: [{ group: "", kind: Service, name: echo }]
  rules:
    - matches: [{ method: { service: test.Echo, method: Unary } }]
      filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: x-header-set, value: set-overwrites-values }], add: [{ name: x-header-add, value: add-appends-values }], remove: [x-header-remove] } }]
      backendRefs: [{ name: echo-v1, port: 50051 }]
    - matches: [{ method: { service: test.Echo, method: SplitMe } }]
      backendRefs: [{ name: echo-v1, port: 50051, weight: 70 }, { name: echo-v2, port: 50051, weight: 30 }]
`,
  });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await gw?.close();
  await Promise.all([v1?.close(), v2?.close()]);
});

function client(authority: string): EchoClientInstance {
  const c = echoClient(`127.0.0.1:${gw.gateway.port}`, authority);
  clients.push(c);
  return c;
}

function call(c: EchoClientInstance, method: string, md = new Metadata()): Promise<{ err: ServiceError | null; server: string | null }> {
  return new Promise((resolve) => {
    let server: string | null = null;
    const req = c[method]!(Buffer.from("hi"), md, {}, (err: ServiceError | null) => setImmediate(() => resolve({ err, server }))) as { on(e: string, f: (m: Metadata) => void): void };
    req.on("metadata", (m) => (server = String(m.get("x-server")[0] ?? "")));
  });
}

describe("GRPCRoute with a Service parent", () => {
  it("modifies request headers for calls addressed to the Service", async () => {
    const md = new Metadata();
    md.set("x-header-set", "some-other-value");
    md.set("x-header-remove", "val");
    md.set("x-header-add", "original");
    const before = v1.seen.length;
    expect(await call(client("echo"), "Unary", md)).toEqual({ err: null, server: "echo-v1" });
    const seen = v1.seen.slice(before).at(-1)!.metadata;
    expect(seen["x-header-set"]).toBe("set-overwrites-values");
    expect(seen["x-header-add"]).toMatch(/^original,\s?add-appends-values$/);
    expect(seen["x-header-remove"]).toBeUndefined();
  });

  it("splits 70/30 by weight", async () => {
    const c = client("echo.default.svc.cluster.local");
    const counts: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const { server } = await call(c, "SplitMe");
      counts[server ?? "none"] = (counts[server ?? "none"] ?? 0) + 1;
    }
    expect(Object.keys(counts).sort()).toEqual(["echo-v1", "echo-v2"]);
    // Binomial(200, 0.7): sd 6.5.
    expect(counts["echo-v1"]!).toBeGreaterThan(140 - 40);
    expect(counts["echo-v1"]!).toBeLessThan(140 + 40);
  });

  it("calls to an authority that names no Service are not the route's (no route: UNIMPLEMENTED)", async () => {
    const { err } = await call(client("not-a-service.example"), "Unary");
    expect(err?.code).toBe(status.UNIMPLEMENTED);
  });
});
