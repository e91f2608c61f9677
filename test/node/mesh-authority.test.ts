import { connect } from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, backendYaml, type TestGateway } from "../support/gateway.js";
import { rawExchange } from "../support/raw-socket.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

/** A mesh route is read from the authority however it arrives: Host, an absolute-form target (HTTP_PROXY clients), HTTP/2 :authority. */

let v1: TestUpstream, v2: TestUpstream;
let gw: TestGateway;

beforeAll(async () => {
  [v1, v2] = await Promise.all([startUpstream("reviews-v1"), startUpstream("reviews-v2")]);
  gw = await startTestGateway({
    "b.yaml": [backendYaml("reviews-v1", [v1.url]), backendYaml("reviews-v2", [v2.url])].join("---\n"),
    "r.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: reviews }
spec:
  parentRefs: [{ group: "", kind: Service, name: reviews, port: 9080 }]
  rules:
    - matches: [{ headers: [{ name: end-user, value: jason }] }]
      backendRefs: [{ name: reviews-v2 }]
    - backendRefs: [{ name: reviews-v1 }]
`,
  });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([v1, v2].map((u) => u?.close()));
});

describe("mesh authorities in every request form", () => {
  it("an absolute-form target (a client using the gateway as HTTP_PROXY)", async () => {
    const reply = await rawExchange(gw.gateway.port, "GET http://reviews:9080/reviews/0 HTTP/1.1\r\nHost: reviews:9080\r\nConnection: close\r\n\r\n");
    expect(reply.status).toBe(200);
    expect(reply.head).toMatch(/^x-upstream: reviews-v1$/im);
    const withoutHost = await rawExchange(gw.gateway.port, "GET http://reviews.default.svc.cluster.local:9080/reviews/0 HTTP/1.1\r\nend-user: jason\r\nConnection: close\r\n\r\n");
    expect(withoutHost.head).toMatch(/^x-upstream: reviews-v2$/im);
  });

  it("an absolute-form target on another port of the Service is not the route's", async () => {
    const reply = await rawExchange(gw.gateway.port, "GET http://reviews:8080/reviews/0 HTTP/1.1\r\nHost: reviews:8080\r\nConnection: close\r\n\r\n");
    expect(reply.status).toBe(404);
  });

  it("HTTP/2 prior knowledge with :authority", async () => {
    const session = connect(gw.url);
    try {
      const ask = (authority: string, headers: Record<string, string> = {}) =>
        new Promise<{ status: number; upstream: string | undefined }>((resolve, reject) => {
          const req = session.request({ ":method": "GET", ":path": "/reviews/0", ":authority": authority, ...headers });
          req.on("response", (h) => {
            req.resume();
            req.on("end", () => resolve({ status: Number(h[":status"]), upstream: h["x-upstream"] as string | undefined }));
          });
          req.on("error", reject);
          req.end();
        });
      expect(await ask("reviews:9080")).toEqual({ status: 200, upstream: "reviews-v1" });
      expect(await ask("reviews.default:9080", { "end-user": "jason" })).toEqual({ status: 200, upstream: "reviews-v2" });
      expect((await ask("reviews")).status).toBe(404);
    } finally {
      session.close();
    }
  });
});
