import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startCliGateway, type CliGateway } from "../support/cli-gateway.js";
import { startWsUpstream, type WsUpstream } from "../support/ws-upstream.js";

let up: WsUpstream;
let dir: string;
let gw: CliGateway;

beforeAll(async () => {
  up = await startWsUpstream();
  dir = await mkdtemp(join(tmpdir(), "meshgate-ws-cli-"));
  // Gateway API conformance httproute-backend-protocol-websocket, as `meshgate serve` reads it.
  await writeFile(
    join(dir, "ws.yaml"),
    `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: infra-backend-v1, namespace: gateway-conformance-infra }
spec:
  endpoints: [{ url: "http://127.0.0.1" }]
  ports: [{ name: third-port, port: 8082, targetPort: ${up.port}, appProtocol: kubernetes.io/ws }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: backend-protocol-ws
  namespace: gateway-conformance-infra
spec:
  parentRefs:
  - name: same-namespace
  rules:
  - backendRefs:
    - name: infra-backend-v1
      port: 8082
`,
  );
  gw = await startCliGateway(["--policies", dir, "--shutdown-grace", "1s"]);
});

afterAll(async () => {
  await gw?.stop();
  await up?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("meshgate serve relays WebSockets", () => {
  it("text and binary frames echo through the CLI gateway; SIGTERM with a socket open exits 0 after the grace period", async () => {
    const ws = new WebSocket(`${gw.url.replace("http:", "ws:")}/ws`, { headers: { origin: "ws://gateway/test" } });
    await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
    const next = () => new Promise<{ data: Buffer; binary: boolean }>((r) => ws.once("message", (data: Buffer, binary: boolean) => r({ data, binary })));
    ws.send("Websocket Support!");
    expect(await next()).toEqual({ data: Buffer.from("Websocket Support!"), binary: false });
    ws.send(Buffer.from([1, 2, 3, 4, 5, 6, 7]));
    expect(await next()).toEqual({ data: Buffer.from([1, 2, 3, 4, 5, 6, 7]), binary: true });
    const closed = new Promise<number>((r) => ws.once("close", (code: number) => r(code)));
    const started = Date.now();
    expect(await gw.stop()).toBe(0);
    expect(await closed).toBe(1006);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
