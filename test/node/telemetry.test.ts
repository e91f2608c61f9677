import { createServer, type Server } from "node:http";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../support/cli-gateway.js";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

let up: TestUpstream;
let gw: TestGateway;
let logFile: string;
let collector: Server;
let collectorUrl: string;
const exported: { resourceSpans: { scopeSpans: { spans: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes: { key: string; value: { stringValue?: string; intValue?: string } }[] }[] }[] }[] }[] = [];

const ROUTES = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: tele }
spec:
  rules:
    - matches: [{ path: { value: /ok } }]
      backendRefs: [{ name: up }]
    - matches: [{ path: { value: /ghost } }]
      backendRefs: [{ name: nowhere }]
`;

beforeAll(async () => {
  up = await startUpstream("up");
  collector = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      if (req.url === "/v1/traces") exported.push(JSON.parse(body));
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r));
  collectorUrl = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
  logFile = join(await mkdtemp(join(tmpdir(), "meshgate-log-")), "access.log");
  gw = await startTestGateway({ "b.yaml": backendYaml("up", [up.url]), "r.yaml": ROUTES }, { accessLog: logFile, otlpEndpoint: collectorUrl, istioMetrics: true });
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
  await new Promise((r) => collector?.close(r));
});

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  const res = await fetch(gw.url + path, { headers });
  await res.arrayBuffer();
  return res;
}

describe("metrics", () => {
  it("counts known traffic exactly, with route, backend, endpoint, code and flags", async () => {
    for (let i = 0; i < 3; i++) expect((await get("/ok")).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await get("/missing")).status).toBe(404);
    expect((await get("/ghost")).status).toBe(500);
    const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(text).toContain(`meshgate_requests_total{route="default/tele/rule-0",backend="default/up",endpoint="${up.url}",code="200",flags="-"} 3\n`);
    expect(text).toContain(`meshgate_requests_total{route="",backend="",endpoint="",code="404",flags="NR"} 2\n`);
    expect(text).toContain(`meshgate_requests_total{route="default/tele/rule-1",backend="default/nowhere",endpoint="",code="500",flags="NC"} 1\n`);
    expect(text).toContain(`meshgate_request_duration_seconds_count{route="default/tele/rule-0",backend="default/up"} 3\n`);
    expect(text).toMatch(/meshgate_config_info\{version="[0-9a-f]{12}",hash="[0-9a-f]{64}"\} 1\n/);
    expect(text).toContain("meshgate_retries_total 0\n");
    expect(text).toContain(
      `istio_requests_total{reporter="source",source_workload="meshgate",source_workload_namespace="default",source_principal="unknown",destination_workload="up",destination_workload_namespace="default",destination_service="up.default.svc.cluster.local",destination_service_name="up",destination_service_namespace="default",destination_cluster="unknown",request_protocol="http",response_code="200",response_flags="-",connection_security_policy="unknown",grpc_response_status=""} 3\n`,
    );
    expect(text).toMatch(/istio_request_duration_milliseconds_bucket\{reporter="source",[^}]*response_code="200"[^}]*le="\+Inf"\} 3\n/);
  });
});

describe("access log", () => {
  it("writes one JSON line per request with the Envoy/Istio fields and no secrets", async () => {
    await get("/ok?x=1", { authorization: "Bearer super-secret-token", "x-request-id": "req-42", "user-agent": "tester" });
    await until(async () => (await readFile(logFile, "utf8")).includes("req-42"), 3_000, "access log line");
    const text = await readFile(logFile, "utf8");
    expect(text).not.toContain("super-secret-token");
    const entries = text.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const e = entries.find((x) => x.request_id === "req-42")!;
    expect(e).toMatchObject({ method: "GET", path: "/ok?x=1", protocol: "HTTP/1.1", response_code: 200, response_flags: "-", upstream_host: up.url, route_name: "default/tele/rule-0", backend: "default/up", user_agent: "tester", upstream_attempts: 1 });
    expect(e.authority).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(typeof e.duration_ms).toBe("number");
    expect(e.bytes_sent).toBeGreaterThan(0);
    expect(e.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Date(e.start_time as string).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(entries.find((x) => x.response_code === 404)).toMatchObject({ response_flags: "NR", upstream_host: null });
  });
});

describe("tracing", () => {
  it("exports a server span and a client span per attempt over OTLP/HTTP, with correct parents", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const callerSpan = "00f067aa0ba902b7";
    const before = up.received.length;
    await get("/ok", { traceparent: `00-${traceId}-${callerSpan}-01` });
    const sent = up.received[before]!.headers.traceparent as string;
    const upstreamParent = sent.split("-")[2];
    await until(async () => exported.flatMap((e) => e.resourceSpans[0]!.scopeSpans[0]!.spans).some((s) => s.traceId === traceId && s.kind === 3), 5_000, "spans exported");
    const spans = exported.flatMap((e) => e.resourceSpans[0]!.scopeSpans[0]!.spans).filter((s) => s.traceId === traceId);
    const server = spans.find((s) => s.kind === 2)!;
    const client = spans.find((s) => s.kind === 3)!;
    expect(server.parentSpanId).toBe(callerSpan);
    expect(client.parentSpanId).toBe(server.spanId);
    expect(client.spanId).toBe(upstreamParent);
    expect(sent.startsWith(`00-${traceId}-`)).toBe(true);
    expect(server.attributes).toContainEqual({ key: "http.response.status_code", value: { intValue: "200" } });
    expect(client.attributes).toContainEqual({ key: "server.address", value: { stringValue: up.url } });
  });
});
