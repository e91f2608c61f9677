import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import { mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { startCliGateway, until, type CliGateway } from "../support/cli-gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";
import { healthy, type ChaosServer } from "../support/chaos-upstreams.js";
import { backendYaml } from "../support/gateway.js";
import { createCa, type Issued } from "../support/pki.js";
import { Agent, request } from "undici";

/**
 * Istio's own traffic-management tasks, their YAML as Istio publishes it (test/fixtures/istio),
 * translated by `meshgate import istio` and served by a real `meshgate serve`: each test checks
 * what the task's "verify" steps check, with the version Services as real upstreams.
 */
const BIN = join(process.cwd(), "bin", "meshgate.js");
const FIX = join(process.cwd(), "test", "fixtures", "istio", "tasks");

const upstreams = new Map<string, TestUpstream>();
const gateways: CliGateway[] = [];
const slow: ChaosServer[] = [];

beforeAll(async () => {
  for (const name of ["productpage-v1", "reviews-v1", "reviews-v2", "reviews-v3", "ratings-v1", "details-v1", "httpbin-v1", "httpbin-v2"]) upstreams.set(name, await startUpstream(name));
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  await Promise.all([...upstreams.values(), ...slow].map((u) => u.close()));
});

interface TaskOptions {
  /** Upstream URLs that replace the default one of a version Service. */
  readonly urls?: Record<string, string>;
  /** More Backend documents (a Service in another namespace, say). */
  readonly backends?: readonly string[];
  /** Applied to the translated files: points a published URL at its loopback stand-in. */
  readonly rewrite?: (text: string) => string;
  /** More `serve` flags (TLS, client certificates). */
  readonly serve?: readonly string[];
}

/** Imports the fixtures in task order, adds Backends for the version Services, serves the result. */
async function serveTask(fixtures: string[], options: TaskOptions = {}): Promise<CliGateway> {
  const dir = await mkdtemp(join(tmpdir(), "istio-task-"));
  const res = spawnSync(process.execPath, [BIN, "import", "istio", ...fixtures.map((f) => join(FIX, f)), "--out", dir], { encoding: "utf8" });
  // Subsets and workload selectors always become Service names (approximated): exit 3.
  expect(res.status, res.stderr).toBe(3);
  if (options.rewrite) for (const f of await readdir(dir)) await writeFile(join(dir, f), options.rewrite(await readFile(join(dir, f), "utf8")));
  const backends = [...upstreams].map(([name, u]) => backendYaml(name, [options.urls?.[name] ?? u.url]));
  await writeFile(join(dir, "backends.yaml"), [...backends, ...(options.backends ?? [])].join("---\n"));
  const gw = await startCliGateway(["--policies", dir, "--no-watch", ...(options.serve ?? [])]);
  gateways.push(gw);
  return gw;
}

async function call(gw: CliGateway, host: string, path: string, headers: Record<string, string> = {}) {
  const started = performance.now();
  // undici's request, not fetch: fetch replaces a Host header with the URL's authority.
  const res = await request(`${gw.url}${path}`, { headers: { host, ...headers } });
  await res.body.dump();
  const upstream = res.headers["x-upstream"];
  return { status: res.statusCode, upstream: typeof upstream === "string" ? upstream : null, ms: performance.now() - started };
}

describe("Istio tasks, translated and served", () => {
  it("traffic shifting: all-v1, then reviews 50% v1 / 50% v3", async () => {
    const gw = await serveTask(["destination-rule-all.yaml", "virtual-service-all-v1.yaml", "virtual-service-reviews-50-v3.yaml"]);
    expect((await call(gw, "productpage", "/productpage")).upstream).toBe("productpage-v1");
    expect((await call(gw, "details:9080", "/details/0")).upstream).toBe("details-v1");
    const seen = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const r = await call(gw, "reviews:9080", "/reviews/0");
      expect(r.status).toBe(200);
      seen.set(r.upstream!, (seen.get(r.upstream!) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(["reviews-v1", "reviews-v3"]);
    // 50/50 over 200 requests: outside 60..140 has a probability below 1e-8.
    expect(seen.get("reviews-v1")).toBeGreaterThan(60);
    expect(seen.get("reviews-v1")).toBeLessThan(140);
  });

  it("fault injection, abort: jason gets HTTP 500 from ratings, everyone else reaches ratings v1", async () => {
    const gw = await serveTask(["destination-rule-all.yaml", "virtual-service-all-v1.yaml", "virtual-service-reviews-test-v2.yaml", "virtual-service-ratings-test-abort.yaml"]);
    const before = upstreams.get("ratings-v1")!.received.length;
    const jason = await call(gw, "ratings:9080", "/ratings/0", { "end-user": "jason" });
    expect(jason.status).toBe(500);
    expect(upstreams.get("ratings-v1")!.received.length).toBe(before);
    const other = await call(gw, "ratings:9080", "/ratings/0");
    expect([other.status, other.upstream]).toEqual([200, "ratings-v1"]);
    expect((await call(gw, "reviews:9080", "/reviews/0", { "end-user": "jason" })).upstream).toBe("reviews-v2");
  });

  it("fault injection, delay: jason's ratings calls wait 7 s, everyone else's do not", async () => {
    const gw = await serveTask(["destination-rule-all.yaml", "virtual-service-all-v1.yaml", "virtual-service-reviews-test-v2.yaml", "virtual-service-ratings-test-delay.yaml"]);
    const other = await call(gw, "ratings:9080", "/ratings/0");
    expect(other.upstream).toBe("ratings-v1");
    expect(other.ms).toBeLessThan(5_000);
    const jason = await call(gw, "ratings:9080", "/ratings/0", { "end-user": "jason" });
    expect([jason.status, jason.upstream]).toEqual([200, "ratings-v1"]);
    expect(jason.ms).toBeGreaterThanOrEqual(7_000);
  }, 30_000);

  it("request timeouts: ratings delayed 2 s; reviews v2 answers 504 after 0.5 s when it is slower", async () => {
    const slowReviews = await healthy("reviews-v2", 3_000);
    slow.push(slowReviews);
    const gw = await serveTask(["destination-rule-all.yaml", "virtual-service-all-v1.yaml", "task-request-timeouts.yaml"], { urls: { "reviews-v2": slowReviews.url } });
    const ratings = await call(gw, "ratings:9080", "/ratings/0");
    expect([ratings.status, ratings.upstream]).toEqual([200, "ratings-v1"]);
    expect(ratings.ms).toBeGreaterThanOrEqual(2_000);
    const reviews = await call(gw, "reviews:9080", "/reviews/0");
    expect(reviews.status).toBe(504);
    expect(reviews.ms).toBeGreaterThanOrEqual(500);
    expect(reviews.ms).toBeLessThan(2_500);
  }, 30_000);

  it("mirroring: httpbin v1 answers, v2 receives a copy of every request", async () => {
    const gw = await serveTask(["task-mirroring.yaml"]);
    const v2 = upstreams.get("httpbin-v2")!;
    const before = v2.received.length;
    const r = await call(gw, "httpbin:8000", "/headers");
    expect([r.status, r.upstream]).toEqual([200, "httpbin-v1"]);
    await until(async () => v2.received.length > before, 5_000, "the mirrored request reaching httpbin v2");
    expect(v2.received.at(-1)!.url).toBe("/headers");
  });

  it("ingress: the Bookinfo Istio Gateway and its VirtualService serve productpage's paths on any host, nothing else", async () => {
    const gw = await serveTask(["bookinfo-gateway.yaml"], { backends: [backendYaml("productpage", [upstreams.get("productpage-v1")!.url])] });
    for (const path of ["/productpage", "/static/app.css", "/login", "/api/v1/products/0"]) expect(await call(gw, "bookinfo.example.com", path)).toMatchObject({ status: 200, upstream: "productpage-v1" });
    expect((await call(gw, "bookinfo.example.com", "/reviews/0")).status).toBe(404);
  });

  it("circuit breaking: one request in flight and one pending; a third at once answers 503 and never reaches httpbin", async () => {
    const slowHttpbin = await healthy("httpbin", 800);
    slow.push(slowHttpbin);
    const gw = await serveTask(["task-circuit-breaking.yaml"], { backends: [backendYaml("httpbin", [slowHttpbin.url])] });
    const statuses = (await Promise.all([0, 1, 2].map(() => call(gw, "httpbin:8000", "/get")))).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 503]);
    expect(slowHttpbin.hits).toBe(2);
  });

  describe("JWT authentication and authorization (namespace foo, Service httpbin)", () => {
    let jwks: Server;
    let jwksUrl: string;
    const token = (name: string) => readFile(join(FIX, name), "utf8").then((t) => t.trim());
    const published = /https:\/\/raw\.githubusercontent\.com\/istio\/istio\/[^"'\s]+\/jwks\.json/g;
    beforeAll(async () => {
      const body = await readFile(join(FIX, "jwks.json"));
      jwks = createServer((_, res) => res.writeHead(200, { "content-type": "application/json" }).end(body));
      await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
      jwksUrl = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/jwks.json`;
    });
    afterAll(() => new Promise<void>((r) => jwks.close(() => r())));
    const httpbin = () => backendYaml("httpbin", [upstreams.get("httpbin-v1")!.url], "foo");

    it("RequestAuthentication alone: an invalid token is refused with 401, a request without one passes", async () => {
      const gw = await serveTask(["task-jwt-request-authentication.yaml"], { backends: [httpbin()], rewrite: (t) => t.replace(published, jwksUrl) });
      expect((await call(gw, "httpbin.foo:8000", "/headers", { authorization: "Bearer invalidToken" })).status).toBe(401);
      expect((await call(gw, "httpbin.foo:8000", "/headers")).status).toBe(200);
      expect((await call(gw, "httpbin.foo:8000", "/headers", { authorization: `Bearer ${await token("demo.jwt")}` })).status).toBe(200);
    });

    it("require-jwt with a groups claim: no token 403, a token without group1 403, Istio's groups-scope token 200", async () => {
      const gw = await serveTask(["task-jwt.yaml"], { backends: [httpbin()], rewrite: (t) => t.replace(published, jwksUrl) });
      expect((await call(gw, "httpbin.foo:8000", "/headers")).status).toBe(403);
      expect((await call(gw, "httpbin.foo:8000", "/headers", { authorization: `Bearer ${await token("demo.jwt")}` })).status).toBe(403);
      const ok = await call(gw, "httpbin.foo:8000", "/headers", { authorization: `Bearer ${await token("groups-scope.jwt")}` });
      expect([ok.status, ok.upstream]).toEqual([200, "httpbin-v1"]);
    });
  });

  describe("HTTP authorization by workload identity (SPIFFE client certificates)", () => {
    let gw: CliGateway;
    let ca: Issued;
    const identities = new Map<string, Issued>();
    const agents: Agent[] = [];
    beforeAll(async () => {
      const authority = await createCa("cluster.local");
      ca = authority;
      const server = await authority.issue({ subject: "CN=meshgate", dns: ["productpage", "details", "reviews", "ratings"], ips: ["127.0.0.1"], server: true });
      for (const sa of ["bookinfo-productpage", "bookinfo-reviews"]) identities.set(sa, await authority.issue({ subject: `CN=${sa}`, uris: [`spiffe://cluster.local/ns/default/sa/${sa}`] }));
      const dir = await mkdtemp(join(tmpdir(), "istio-tls-"));
      for (const [name, pem] of [["server.crt", server.cert], ["server.key", server.key], ["ca.crt", authority.cert]] as const) await writeFile(join(dir, name), pem);
      // No VirtualService in this task: each Service is reached by the mesh default route.
      const services = ["productpage", "details", "reviews", "ratings"].map((s) => backendYaml(s, [upstreams.get(`${s}-v1`)!.url]));
      gw = await serveTask(["task-authz-http.yaml"], { backends: services, serve: ["--tls-cert", join(dir, "server.crt"), "--tls-key", join(dir, "server.key"), "--client-ca", join(dir, "ca.crt"), "--client-auth", "permissive"] });
    });
    afterAll(() => Promise.all(agents.map((a) => a.close())));

    async function as(identity: string | null, method: string, host: string, path: string): Promise<number> {
      const cert = identity === null ? undefined : identities.get(identity)!;
      const agent = new Agent({ connect: { ca: ca.cert, ...(cert ? { cert: cert.cert, key: cert.key } : {}) } });
      agents.push(agent);
      const res = await request(`${gw.url.replace("http:", "https:")}${path}`, { method, headers: { host }, dispatcher: agent });
      await res.body.dump();
      return res.statusCode;
    }

    it("productpage admits GET from anyone and nothing else", async () => {
      expect(await as(null, "GET", "productpage:9080", "/productpage")).toBe(200);
      expect(await as(null, "POST", "productpage:9080", "/productpage")).toBe(403);
    });

    it("details and reviews admit GET from productpage's identity only; ratings from reviews' only", async () => {
      expect(await as("bookinfo-productpage", "GET", "details:9080", "/details/0")).toBe(200);
      expect(await as("bookinfo-productpage", "GET", "reviews:9080", "/reviews/0")).toBe(200);
      expect(await as("bookinfo-reviews", "GET", "details:9080", "/details/0")).toBe(403);
      expect(await as(null, "GET", "reviews:9080", "/reviews/0")).toBe(403);
      expect(await as("bookinfo-reviews", "GET", "ratings:9080", "/ratings/0")).toBe(200);
      expect(await as("bookinfo-productpage", "GET", "ratings:9080", "/ratings/0")).toBe(403);
      expect(await as("bookinfo-productpage", "DELETE", "details:9080", "/details/0")).toBe(403);
    });
  });
});
