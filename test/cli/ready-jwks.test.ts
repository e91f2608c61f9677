import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCliGateway, until, type CliGateway } from "../support/cli-gateway.js";
import { backendYaml } from "../support/gateway.js";
import { freePort } from "../support/free-port.js";

// A free loopback port: nothing listens, the connection is refused, the key set is never fetched.
// (Not port 1: fetch refuses it before connecting, as a "bad port".)
let JWKS = "";
const TOKEN = "ready-verbose-token-0123456789";
let gw: CliGateway;

beforeAll(async () => {
  JWKS = `http://127.0.0.1:${await freePort()}/.well-known/jwks.json`;
  const dir = await mkdtemp(join(tmpdir(), "meshgate-ready-jwks-"));
  await writeFile(join(dir, "backend.yaml"), backendYaml("web", ["http://127.0.0.1:9"]));
  await writeFile(
    join(dir, "route.yaml"),
    `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web }
spec:
  rules: [{ backendRefs: [{ name: web, port: 80 }] }]
---
apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: web-jwt }
spec:
  targetRefs: [{ kind: HTTPRoute, name: web }]
  jwt:
    providers:
      - name: idp
        issuer: https://idp.example.com/
        remoteJWKS: { uri: "${JWKS}" }
`,
  );
  const tokenFile = join(await mkdtemp(join(tmpdir(), "meshgate-ready-token-")), "token");
  await writeFile(tokenFile, TOKEN);
  gw = await startCliGateway(["--policies", dir, "--admin-token-file", tokenFile]);
});

afterAll(async () => {
  await gw?.stop();
});

describe("/ready while a JWT route's key set was never fetched", () => {
  it("is 200 (an IdP outage must not take the replica out) and says how many key sets are not fetched", async () => {
    const res = await fetch(`${gw.adminUrl}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ready: true, keySetsNotFetched: 1 });
  });

  it("?verbose names the key set and its error, behind the admin token", async () => {
    expect((await fetch(`${gw.adminUrl}/ready?verbose`)).status).toBe(401);
    await until(async () => {
      const body = (await (await fetch(`${gw.adminUrl}/ready?verbose`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { keySets: { lastError: string | null }[] };
      return body.keySets[0]?.lastError !== null;
    }, 10_000, "the first fetch failed");
    const res = await fetch(`${gw.adminUrl}/ready?verbose`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { keySets: { uri: string; fetched: boolean; fetchedAt: string | null; keys: number; lastError: string }[] };
    expect(body.keySets).toHaveLength(1);
    expect(body.keySets[0]).toMatchObject({ uri: JWKS, fetched: false, fetchedAt: null, keys: 0 });
  });

  it("the route answers 503 jwks_unavailable meanwhile, and the fetch log names the cause", async () => {
    const res = await fetch(`${gw.url}/`, { headers: { authorization: "Bearer a.b.c" } });
    expect([401, 503]).toContain(res.status);
    await until(async () => /fetch failed/.test(gw.logs()), 10_000, "the fetch failure logged");
    const line = gw.logs().split("\n").find((l) => l.includes("fetch failed"))!;
    const entry = JSON.parse(line) as { level: string; message: string; cause?: string };
    expect(entry.level).toBe("warn");
    expect(entry.cause).toMatch(/ECONNREFUSED 127\.0\.0\.1:\d+/);
  });
});
