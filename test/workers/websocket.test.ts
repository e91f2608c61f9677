import { SELF, env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { makeBundle } from "../../src/config/bundle.js";
import { KV_KEYS } from "../../src/runtime/workers/kv-store.js";
import { sha256Hex } from "../../src/identity/api-keys.js";

interface TestEnv {
  POLICIES: KVNamespace;
  TEST_WS_UPSTREAM_PORT: string;
}
const testEnv = env as unknown as TestEnv;

beforeAll(async () => {
  const text = `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: infra-backend-v1 }
spec:
  endpoints: [{ url: "http://127.0.0.1" }]
  ports: [{ name: third-port, port: 8082, targetPort: ${testEnv.TEST_WS_UPSTREAM_PORT}, appProtocol: kubernetes.io/ws }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: backend-protocol-ws }
spec:
  rules:
    - name: secure
      matches: [{ path: { type: PathPrefix, value: /secure } }]
      backendRefs: [{ name: infra-backend-v1, port: 8082 }]
    - filters:
        - type: RequestHeaderModifier
          requestHeaderModifier: { set: [{ name: x-added-by-filter, value: "yes" }] }
      backendRefs: [{ name: infra-backend-v1, port: 8082 }]
---
apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: keys }
spec:
  targetRefs: [{ kind: HTTPRoute, name: backend-protocol-ws, sectionName: secure }]
  apiKey:
    extractFrom: { headers: [{ name: x-api-key }] }
    keys: [{ consumer: alice, hash: "sha256:${await sha256Hex("alice-key")}" }]
`;
  await testEnv.POLICIES.put(KV_KEYS.current, JSON.stringify(await makeBundle([{ name: "ws.yaml", text }], 1, "websocket-test")));
});

const HANDSHAKE = { upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" };

function next(ws: WebSocket): Promise<MessageEvent> {
  return new Promise((resolve, reject) => {
    ws.addEventListener("message", resolve, { once: true });
    ws.addEventListener("close", () => reject(new Error("closed before a message")), { once: true });
  });
}

describe("WebSockets through the Worker", () => {
  it("passes the upgrade through fetch and relays text and binary frames (conformance: backend-protocol-websocket)", async () => {
    const res = await SELF.fetch("http://gw.test/ws", { headers: HANDSHAKE });
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    ws.accept();
    ws.send("Websocket Support!");
    expect((await next(ws)).data).toBe("Websocket Support!");
    ws.send(new Uint8Array([1, 2, 3, 4, 5, 6, 7]));
    const bin = (await next(ws)).data as unknown;
    const bytes = bin instanceof Blob ? new Uint8Array(await bin.arrayBuffer()) : ArrayBuffer.isView(bin) ? new Uint8Array(bin.buffer, bin.byteOffset, bin.byteLength) : new Uint8Array(bin as ArrayBuffer);
    expect([...bytes]).toEqual([1, 2, 3, 4, 5, 6, 7]);
    ws.send("handshake?");
    const handshake = JSON.parse((await next(ws)).data as string) as { url: string; headers: Record<string, string> };
    expect(handshake.url).toBe("/ws");
    expect(handshake.headers).toMatchObject({ upgrade: "websocket", "x-added-by-filter": "yes", "x-forwarded-proto": "http" });
    expect(handshake.headers["x-request-id"]).toBeDefined();
    ws.close(1000, "done");
  });

  it("a close from the upstream reaches the client with its code", async () => {
    const res = await SELF.fetch("http://gw.test/ws", { headers: HANDSHAKE });
    const ws = res.webSocket!;
    ws.accept();
    const closed = new Promise<CloseEvent>((r) => ws.addEventListener("close", r, { once: true }));
    ws.send("close-me");
    expect((await closed).code).toBe(4001);
  });

  it("runs identity before the handshake: a JSON 401 without a key, a 101 with one", async () => {
    const denied = await SELF.fetch("http://gw.test/secure", { headers: HANDSHAKE });
    expect(denied.status).toBe(401);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe("api_key_missing");
    const ok = await SELF.fetch("http://gw.test/secure", { headers: { ...HANDSHAKE, "x-api-key": "alice-key" } });
    expect(ok.status).toBe(101);
    ok.webSocket!.accept();
    ok.webSocket!.close(1000);
  });

  it("relays an upstream that refuses the upgrade as it answered", async () => {
    const res = await SELF.fetch("http://gw.test/refuse-400", { headers: HANDSHAKE });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe("refused");
    expect(res.headers.get("x-refused")).toBe("yes");
  });

  it("a plain request to the same route stays a plain request", async () => {
    const res = await SELF.fetch("http://gw.test/plain");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ url: "/plain", upgrade: null });
  });
});
