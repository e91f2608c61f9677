import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { createCa, type TestCa } from "../support/pki.js";

let ca: TestCa;
let upstream: Server;
let origin: string;
let gw: TestGateway;
let dir: string;

beforeAll(async () => {
  ca = await createCa("upstream mesh CA");
  const [serverCert, gatewayCert] = await Promise.all([ca.issue({ subject: "CN=reviews", ips: ["127.0.0.1"], server: true }), ca.issue({ subject: "CN=meshgate", uris: ["spiffe://cluster.local/ns/edge/sa/meshgate"] })]);
  // An upstream that only talks to clients holding a certificate from the mesh CA.
  upstream = createServer({ cert: serverCert.cert, key: serverCert.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerX509Certificate();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ clientSan: peer?.subjectAltName ?? null, host: req.headers.host }));
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  origin = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), "meshgate-certs-"));
  await writeFile(join(dir, "client.crt"), gatewayCert.cert);
  await writeFile(join(dir, "client.key"), gatewayCert.key);
  await writeFile(join(dir, "ca.crt"), ca.cert);
  const backend = (name: string, tls: string) => `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: ${name} }
spec:
  endpoints: [{ url: "${origin}" }]
  tls: ${tls}
`;
  gw = await startTestGateway({
    "backends.yaml": [
      backend("inline", `{ ca: ${JSON.stringify(ca.cert)}, clientCertificate: { cert: ${JSON.stringify(gatewayCert.cert)}, key: ${JSON.stringify(gatewayCert.key)} } }`),
      backend("files", `{ caFile: "${join(dir, "ca.crt")}", clientCertificate: { certFile: "${join(dir, "client.crt")}", keyFile: "${join(dir, "client.key")}" } }`),
      backend("no-client-cert", `{ ca: ${JSON.stringify(ca.cert)} }`),
      backend("untrusted", `{ clientCertificate: { cert: ${JSON.stringify(gatewayCert.cert)}, key: ${JSON.stringify(gatewayCert.key)} } }`),
    ].join("---\n"),
    "route.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r }
spec:
  rules:
${["inline", "files", "no-client-cert", "untrusted"].map((b) => `    - { matches: [{ path: { value: /${b} } }], backendRefs: [{ name: ${b} }] }`).join("\n")}
`,
  });
});

afterAll(async () => {
  await gw?.close();
  upstream?.closeAllConnections();
  await new Promise((r) => upstream?.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe("upstream mTLS from a Backend's tls settings", () => {
  it("presents the inline client certificate and verifies the upstream against the inline CA", async () => {
    const res = await fetch(`${gw.url}/inline`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { clientSan: string }).clientSan).toBe("URI:spiffe://cluster.local/ns/edge/sa/meshgate");
  });

  it("reads the certificate, key and CA from files", async () => {
    const res = await fetch(`${gw.url}/files`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { clientSan: string }).clientSan).toContain("spiffe://cluster.local/ns/edge/sa/meshgate");
  });

  it("without a client certificate the upstream refuses the handshake: 503, not a hang", async () => {
    const res = await fetch(`${gw.url}/no-client-cert`);
    // TLS 1.3: the server's refusal arrives after the request was written, so it reads as a reset.
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("upstream_reset");
  });

  it("an upstream whose certificate is not from a trusted CA is refused", async () => {
    const res = await fetch(`${gw.url}/untrusted`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("upstream_unavailable");
  });
});
