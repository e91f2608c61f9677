import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

// A client connection's abort reaches the upstream only while one of its requests waits in the
// pipeline; after the answer, a close is free (client-connection.ts). Both halves, end to end.
let up: TestUpstream;
let gw: TestGateway;
const upstreamClosed: string[] = [];

beforeAll(async () => {
  up = await startUpstream("hold");
  up.respond = (req, res) => {
    res.once("close", () => upstreamClosed.push(req.url ?? ""));
    if (req.url?.startsWith("/hold")) return; // never answers: only the gateway can end this request
    res.writeHead(200, { "content-type": "text/plain" }).end("ok");
  };
  gw = await startTestGateway({
    "b.yaml": backendYaml("hold", [up.url]),
    "r.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: hold }
spec:
  rules: [{ backendRefs: [{ name: hold }] }]
`,
  });
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
});

async function until(check: () => boolean, ms = 3_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return check();
}

describe("a client that closes its connection", () => {
  it("while its request waits for the upstream: the upstream request is cancelled", async () => {
    const socket = connect(gw.gateway.port, "127.0.0.1");
    socket.write(`GET /hold/1 HTTP/1.1\r\nhost: app.test\r\n\r\n`);
    expect(await until(() => up.received.some((r) => r.url === "/hold/1"))).toBe(true);
    socket.destroy();
    expect(await until(() => upstreamClosed.includes("/hold/1"))).toBe(true);
  });

  it("after its answers: later requests on other connections are served, the upstream connection is reused", async () => {
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${gw.url}/done/${i}`, { headers: { connection: "close" } });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("ok");
    }
    const served = await fetch(`${gw.url}/done/last`);
    expect(await served.text()).toBe("ok");
  });
});
