import { Metadata, status, type ClientReadableStream, type ClientDuplexStream, type ClientWritableStream, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { echoClient, startEchoServer, type EchoClientInstance, type EchoServer } from "../support/grpc-echo.js";
import { h2Request, h2Session } from "../support/h2-client.js";

let a: EchoServer, b: EchoServer;
let gw: TestGateway;
let client: EchoClientInstance;

const ROUTES = `apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: echo }
spec:
  hostnames: [grpc.example.com]
  rules:
    - name: variant-b
      matches: [{ method: { service: test.Echo, method: Unary }, headers: [{ name: x-variant, value: b }] }]
      backendRefs: [{ name: echo-b, port: 50051 }]
    - name: locked
      matches: [{ method: { service: test.Echo, method: Slow }, headers: [{ name: x-locked, value: "yes" }] }]
      backendRefs: [{ name: echo-a, port: 50051 }]
    - name: flaky
      matches: [{ method: { service: test.Echo, method: Flaky }, headers: [{ name: x-retry, value: "yes" }] }]
      backendRefs: [{ name: echo-a, port: 50051 }]
    - name: split
      matches: [{ method: { type: RegularExpression, service: "test\\\\.Ech.", method: "Split.*" } }]
      backendRefs: [{ name: echo-a, port: 50051, weight: 1 }, { name: echo-b, port: 50051, weight: 1 }]
    - name: service
      matches: [{ method: { service: test.Echo } }]
      filters:
        - { type: RequestHeaderModifier, requestHeaderModifier: { add: [{ name: x-added, value: "yes" }] } }
        - { type: ResponseHeaderModifier, responseHeaderModifier: { set: [{ name: x-resp, value: set }] } }
      backendRefs: [{ name: echo-a, port: 50051 }]
---
apiVersion: meshgate.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: flaky }
spec:
  targetRefs: [{ kind: GRPCRoute, name: echo, sectionName: flaky }]
  retry: { attempts: 3, on: [unavailable], codes: [], backoff: { base: 1ms, max: 5ms } }
---
apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: locked }
spec:
  targetRefs: [{ kind: GRPCRoute, name: echo, sectionName: locked }]
  authorization:
    rules: [{ name: nobody, action: DENY, methods: [POST] }]
`;

beforeAll(async () => {
  [a, b] = await Promise.all([startEchoServer("a"), startEchoServer("b")]);
  // No appProtocol: a GRPCRoute's backends are HTTP/2 whatever the Backend says.
  gw = await startTestGateway({ "b.yaml": [backendYaml("echo-a", [a.url]), backendYaml("echo-b", [b.url])].join("---\n"), "r.yaml": ROUTES });
  client = echoClient(`127.0.0.1:${gw.gateway.port}`, "grpc.example.com");
});

afterAll(async () => {
  client?.close();
  await gw?.close();
  await Promise.all([a?.close(), b?.close()]);
});

function unary(c: EchoClientInstance, method: string, body: Buffer, md = new Metadata(), deadlineMs?: number): Promise<{ err: ServiceError | null; value?: Buffer; headers: Metadata | null; trailers: Metadata | null }> {
  return new Promise((resolve) => {
    let headers: Metadata | null = null;
    let trailers: Metadata | null = null;
    const options = deadlineMs ? { deadline: Date.now() + deadlineMs } : {};
    const call = c[method]!(body, md, options, (err: ServiceError | null, value?: Buffer) => setImmediate(() => resolve({ err, ...(value ? { value } : {}), headers, trailers }))) as { on(e: string, f: (m: Metadata) => void): void };
    call.on("metadata", (m) => (headers = m));
    call.on("status", (s) => (trailers = (s as unknown as { metadata: Metadata }).metadata));
  });
}

describe("GRPCRoute through meshgate (grpc-js client and server, h2c both sides)", () => {
  it("unary: routed by service, request and response header filters, metadata and trailers both ways", async () => {
    const md = new Metadata();
    md.set("x-client", "c1");
    const res = await unary(client, "Unary", Buffer.from("hello"), md);
    expect(res.err).toBeNull();
    expect(res.value?.toString()).toBe("hello");
    expect(res.headers?.get("x-server")).toEqual(["a"]);
    expect(res.headers?.get("x-resp")).toEqual(["set"]);
    expect(res.trailers?.get("x-trailer")).toEqual(["done"]);
    const seen = a.seen.at(-1)!;
    expect(seen.metadata).toMatchObject({ "x-client": "c1", "x-added": "yes" });
  });

  it("header match picks the rule with the exact method over the service-only one", async () => {
    const md = new Metadata();
    md.set("x-variant", "b");
    const res = await unary(client, "Unary", Buffer.from("x"), md);
    expect(res.headers?.get("x-server")).toEqual(["b"]);
  });

  it("server streaming, client streaming and bidi streams flow through", async () => {
    const streamed = await new Promise<string[]>((resolve, reject) => {
      const out: string[] = [];
      const call = client.ServerStream!(Buffer.from("5")) as ClientReadableStream<Buffer>;
      call.on("data", (m: Buffer) => out.push(m.toString()));
      call.on("end", () => resolve(out));
      call.on("error", reject);
    });
    expect(streamed).toEqual(["msg-0", "msg-1", "msg-2", "msg-3", "msg-4"]);

    const summed = await new Promise<string>((resolve, reject) => {
      const call = client.ClientStream!((err: ServiceError | null, v: Buffer) => (err ? reject(err) : resolve(v.toString()))) as ClientWritableStream<Buffer>;
      for (let i = 0; i < 10; i++) call.write(Buffer.alloc(1000, i));
      call.end();
    });
    expect(summed).toBe("10:10000");

    const echoed = await new Promise<string[]>((resolve, reject) => {
      const out: string[] = [];
      const call = client.Bidi!() as ClientDuplexStream<Buffer, Buffer>;
      call.on("data", (m: Buffer) => {
        out.push(m.toString());
        // Ping-pong: the next message only once the previous answer came back through the gateway.
        if (out.length < 4) call.write(Buffer.from(`m${out.length}`));
        else call.end();
      });
      call.on("end", () => resolve(out));
      call.on("error", reject);
      call.write(Buffer.from("m0"));
    });
    expect(echoed).toEqual(["echo:m0", "echo:m1", "echo:m2", "echo:m3"]);
  });

  it("large messages (3 MiB) both ways", async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    const res = await unary(client, "Unary", big);
    expect(res.err).toBeNull();
    expect(res.value?.equals(big)).toBe(true);
  });

  it("upstream status codes and messages reach the client unchanged", async () => {
    const res = await unary(client, "Fail", Buffer.from("x"));
    expect(res.err?.details).toBe("refused by a");
    expect(res.err?.code).toBe(status.FAILED_PRECONDITION);
    expect(res.err?.details).toBe("refused by a");
  });

  it("TrafficPolicy retry on gRPC status names (unavailable) retries a trailers-only UNAVAILABLE; without it the status reaches the client", async () => {
    const md = new Metadata();
    md.set("x-retry", "yes");
    const retried = await unary(client, "Flaky", Buffer.from("k1"), md);
    expect(retried.err).toBeNull();
    expect(retried.value?.toString()).toBe("ok after 3");
    const plain = await unary(client, "Flaky", Buffer.from("k2"));
    expect(plain.err?.code).toBe(status.UNAVAILABLE);
    expect(plain.err?.details).toBe("try 1 unavailable");
  });

  it("weighted backendRefs on a RegularExpression method match", async () => {
    const servers = new Set<string>();
    for (let i = 0; i < 30 && servers.size < 2; i++) {
      const res = await unary(client, "SplitMe", Buffer.from("s"));
      const server = res.headers?.get("x-server")[0];
      if (typeof server === "string") servers.add(server);
    }
    expect([...servers].sort()).toEqual(["a", "b"]);
  });
});

describe("gRPC errors made by the gateway", () => {
  it("no route is UNIMPLEMENTED (12), trailers-only, with the gateway's code in grpc-message", async () => {
    const other = echoClient(`127.0.0.1:${gw.gateway.port}`, "elsewhere.example.com");
    const res = await unary(other, "Unary", Buffer.from("x"));
    other.close();
    expect(res.err?.code).toBe(status.UNIMPLEMENTED);
    expect(res.err?.details).toMatch(/^no_route: /);
  });

  it("a SecurityPolicy on the GRPCRoute rule refuses with PERMISSION_DENIED (7)", async () => {
    const md = new Metadata();
    md.set("x-locked", "yes");
    const res = await unary(client, "Slow", Buffer.from("x"), md);
    expect(res.err?.code).toBe(status.PERMISSION_DENIED);
  });

  it("grpc-timeout bounds the call: DEADLINE_EXCEEDED (4) from the gateway, HTTP 200 trailers-only", async () => {
    const session = await h2Session(gw.url);
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), Buffer.from("x")]);
    const t = performance.now();
    const res = await h2Request(session, { ":method": "POST", ":path": "/test.Echo/Slow", ":authority": "grpc.example.com", "content-type": "application/grpc", te: "trailers", "grpc-timeout": "300m" }, frame);
    session.close();
    expect(performance.now() - t).toBeLessThan(1_500);
    expect(res.status).toBe(200);
    expect(res.headers["grpc-status"]).toBe("4");
    expect(res.body.length).toBe(0);
  });

  it("metrics count calls by grpc-status: the upstream's (trailers or trailers-only) and the gateway's own", async () => {
    const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(text).toMatch(/meshgate_grpc_requests_total\{route="default\/echo\/service",backend="default\/echo-a",grpc_status="0"\} [1-9]/);
    expect(text).toMatch(/meshgate_grpc_requests_total\{route="default\/echo\/service",backend="default\/echo-a",grpc_status="9"\} 1/);
    expect(text).toMatch(/meshgate_grpc_requests_total\{route="",backend="",grpc_status="12"\} 1/);
    expect(text).toMatch(/meshgate_grpc_requests_total\{route="default\/echo\/locked",backend="",grpc_status="7"\} 1/);
  });

  it("a plain HTTP request never takes a GRPCRoute (404 JSON), a gRPC one with the same path does", async () => {
    const res = await fetch(`${gw.url}/test.Echo/Unary`, { method: "POST", headers: { "x-forwarded-host": "x" } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("no_route");
  });
});


describe("explain a gRPC method (grpc://host/package.Service/Method)", () => {
  type Trail = { request: { grpc?: string; method: string }; routing: { considered: { kind?: string; grpcMethod?: string; rule: string; result: string }[] }; balance?: { backendRefs: { backend: string }[] }; outcome?: { status: number } };
  const explainOf = async (url: string, ...headers: string[]) => (await (await fetch(`${gw.adminUrl}/explain?url=${encodeURIComponent(url)}${headers.map((h) => `&header=${encodeURIComponent(h)}`).join("")}`)).json()) as Trail;

  it("shows the GRPCRoute rule the call takes, as the gateway routes it", async () => {
    const trail = await explainOf("grpc://grpc.example.com/test.Echo/Unary", "x-variant: b");
    expect(trail.request).toMatchObject({ grpc: "test.Echo/Unary", method: "POST" });
    const matched = trail.routing.considered.find((c) => c.result === "matched")!;
    expect(matched).toMatchObject({ kind: "GRPCRoute", grpcMethod: "test.Echo/Unary", rule: "default/echo/variant-b" });
    expect(trail.balance!.backendRefs.map((r) => r.backend)).toEqual(["default/echo-b"]);
    // The gateway agrees: the same call lands on b.
    const md = new Metadata();
    md.set("x-variant", "b");
    expect((await unary(client, "Unary", Buffer.from("x"), md)).headers?.get("x-server")).toEqual(["b"]);
  });

  it("a method only the service-wide rule covers takes that rule; a grpc:// URL without /Service/Method is a 400 that gives the form", async () => {
    const trail = await explainOf("grpc://grpc.example.com/test.Echo/Other");
    expect(trail.routing.considered.find((c) => c.result === "matched")).toMatchObject({ grpcMethod: "test.Echo/*", rule: "default/echo/service" });
    const bad = await fetch(`${gw.adminUrl}/explain?url=${encodeURIComponent("grpc://grpc.example.com/test.Echo")}`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain("grpc://host[:port]/package.Service/Method");
  });

  it("the same path as plain HTTP matches no GRPCRoute, and explain says why", async () => {
    const trail = (await (await fetch(`${gw.adminUrl}/explain?method=POST&url=${encodeURIComponent("http://grpc.example.com/test.Echo/Unary")}`)).json()) as Trail;
    expect(trail.outcome).toMatchObject({ status: 404 });
    const byRule = Object.fromEntries(trail.routing.considered.map((c) => [c.rule, c.result]));
    // The rules whose method matches are refused for the missing gRPC content type.
    expect(byRule["default/echo/service"]).toContain("header content-type is absent");
    expect(byRule["default/echo/variant-b"]).toMatch(/header (content-type|x-variant) is absent/);
  });
});
