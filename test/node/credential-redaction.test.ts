import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../support/cli-gateway.js";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { sign, signingKey, type SigningKey } from "../support/jwks-server.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

// Credentials in the query never reach a log: the defaults (access_token, api_key, token) and
// whatever a provider reads (session_key here), whether or not the route's policy read them.

const ISS = "https://idp.redact.test";
const SECRETS = ["s3cret-access", "s3cret-apikey", "s3cret-token", "s3cret-session", "s3cret-bearer"];
let up: TestUpstream;
let gw: TestGateway;
let key: SigningKey;
let logFile: string;

beforeAll(async () => {
  up = await startUpstream("up");
  key = await signingKey("k1", "ES256");
  logFile = join(await mkdtemp(join(tmpdir(), "mg-redact-")), "access.log");
  gw = await startTestGateway(
    {
      "b.yaml": backendYaml("up", [up.url]),
      "r.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web }
spec:
  rules:
    - { name: open, matches: [{ path: { type: PathPrefix, value: /open } }], backendRefs: [{ name: up }] }
    - { name: jwt, matches: [{ path: { type: PathPrefix, value: /jwt } }], backendRefs: [{ name: up }] }
`,
      "s.yaml": `apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: jwt }
spec:
  targetRefs: [{ kind: HTTPRoute, name: web, sectionName: jwt }]
  jwt:
    providers:
      - name: idp
        issuer: ${ISS}
        localJWKS: { keys: [${JSON.stringify(key.jwk)}] }
        extractFrom: { headers: [{ name: authorization, valuePrefix: "Bearer " }], params: [session_key] }
        forwardToken: true
`,
    },
    { accessLog: logFile, logger: () => undefined },
  );
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
});

const query = "?access_token=s3cret-access&x=1&API_KEY=s3cret-apikey&token=s3cret-token&session_key=s3cret-session";

describe("credential redaction", () => {
  it("the access log shows the parameter names, never their values (routes with and without a policy)", async () => {
    const open = await fetch(`${gw.url}/open${query}&rid=open`, { headers: { "x-request-id": "redact-open" } });
    expect(open.status).toBe(200);
    const token = await sign(key, { iss: ISS });
    // A forwarded token stays in the query for the upstream, and still not in the log.
    const viaParam = await fetch(`${gw.url}/jwt/a?session_key=${token}&x=2`, { headers: { "x-request-id": "redact-jwt" } });
    expect(viaParam.status).toBe(200);
    const refused = await fetch(`${gw.url}/jwt/a?access_token=s3cret-access`, { headers: { authorization: `Bearer ${token}`, "x-request-id": "redact-refused" } });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe("credentials for JWT provider idp in 2 places (header authorization, query parameter access_token): send exactly one");
    await until(async () => (await readFile(logFile, "utf8").catch(() => "")).includes("redact-refused"), 3_000, "access log lines");
    const log = await readFile(logFile, "utf8");
    for (const s of [...SECRETS, token]) expect(log).not.toContain(s);
    const lines = log.trim().split("\n").map((l) => JSON.parse(l) as { request_id: string; path: string });
    expect(lines.find((l) => l.request_id === "redact-open")!.path).toBe("/open?access_token=REDACTED&x=1&API_KEY=REDACTED&token=REDACTED&session_key=REDACTED&rid=open");
    expect(lines.find((l) => l.request_id === "redact-jwt")!.path).toBe("/jwt/a?session_key=REDACTED&x=2");
    expect(lines.find((l) => l.request_id === "redact-refused")!.path).toBe("/jwt/a?access_token=REDACTED");
  });

  it("explain redacts query credentials and credential headers", async () => {
    const res = await fetch(`${gw.adminUrl}/explain`, { method: "POST", body: JSON.stringify({ method: "GET", url: `http://gw.test/open${query}`, headers: { authorization: "Bearer s3cret-bearer", cookie: "sid=s3cret-session", "x-plain": "kept" } }) });
    const text = await res.text();
    for (const s of SECRETS) expect(text).not.toContain(s);
    const trail = JSON.parse(text) as { request: { query: string; headers: Record<string, string> } };
    expect(trail.request.query).toBe("?access_token=REDACTED&x=1&API_KEY=REDACTED&token=REDACTED&session_key=REDACTED");
    expect(trail.request.headers).toMatchObject({ authorization: "REDACTED", cookie: "REDACTED", "x-plain": "kept" });
  });
});
