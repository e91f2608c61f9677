import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNodeGateway, type NodeGateway, type NodeGatewayOptions } from "../../src/runtime/node/gateway-server.js";
import { silentLogger } from "../../src/runtime/node/log.js";

export interface TestGateway {
  readonly gateway: NodeGateway;
  readonly url: string;
  readonly adminUrl: string;
  readonly dir: string;
  /** Replace the policy files and wait until the gateway has reloaded. */
  write(files: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

/** A real Node gateway on loopback port 0 over a temporary policy directory. */
export async function startTestGateway(files: Record<string, string>, options: { watch?: boolean } & Partial<NodeGatewayOptions> = {}): Promise<TestGateway> {
  const dir = await mkdtemp(join(tmpdir(), "meshgate-test-"));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const gateway = await startNodeGateway({ accessLog: "off", logger: silentLogger, ...options, policies: dir, port: 0, adminPort: 0, watch: options.watch ?? false });
  return {
    gateway,
    dir,
    url: `http://127.0.0.1:${gateway.port}`,
    adminUrl: `http://127.0.0.1:${gateway.adminPort}`,
    async write(next) {
      for (const [name, text] of Object.entries(next)) await writeFile(join(dir, name), text);
      await gateway.reload();
    },
    async close() {
      await gateway.close(1_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Backend document YAML for a test upstream. */
export function backendYaml(name: string, urls: string[], namespace = "default"): string {
  return `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  endpoints:
${urls.map((u) => `    - url: "${u}"`).join("\n")}
`;
}

/** HTTPRoute document YAML: one rule sending a path prefix to one backend. */
export function prefixRouteYaml(name: string, prefix: string, backend: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name} }
spec:
  rules:
    - matches: [{ path: { type: PathPrefix, value: ${prefix} } }]
      backendRefs: [{ name: ${backend}, port: 80 }]
`;
}

/** An HTTPRoute `name` sending PathPrefix /name to `ref` (a backendRef in flow style), then `---`. */
export const prefixRoute = (name: string, ref: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name} }
spec:
  rules:
    - matches: [{ path: { type: PathPrefix, value: /${name} } }]
      backendRefs: [${ref}]
---
`;
