import { afterAll } from "vitest";
import { startTestGateway, type TestGateway } from "./gateway.js";

/**
 * Gateways and upstreams a test file starts, closed after all its tests (gateways first, so no
 * request is in flight to an upstream that is going away).
 */
export function fleet(): {
  server<T extends { close(): Promise<void> }>(started: Promise<T>): Promise<T>;
  gateway(files: Record<string, string>, options?: Parameters<typeof startTestGateway>[1]): Promise<TestGateway>;
} {
  const gateways: TestGateway[] = [];
  const servers: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await Promise.all(servers.map((s) => s.close()));
  });
  return {
    async server(started) {
      const s = await started;
      servers.push(s);
      return s;
    },
    async gateway(files, options = {}) {
      const gw = await startTestGateway(files, options);
      gateways.push(gw);
      return gw;
    },
  };
}

/** Backend `svc` over these endpoint URLs (plus `backendExtra` lines under its spec) and one route to it. */
export function serviceFiles(urls: string[], backendExtra = "", ruleExtra = ""): Record<string, string> {
  return {
    "b.yaml": `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: svc }
spec:
  endpoints:
${urls.map((u) => `    - url: "${u}"`).join("\n")}
${backendExtra}`,
    "r.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: svc }
spec:
  rules: [{ backendRefs: [{ name: svc }]${ruleExtra} }]
`,
  };
}
