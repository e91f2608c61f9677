import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, writeFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { importIstio } from "../../src/import/istio/import-istio.js";
import { startCliGateway, type CliGateway } from "../support/cli-gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";
import { backendYaml } from "../support/gateway.js";
import { request } from "undici";

const BIN = join(process.cwd(), "bin", "meshgate.js");
const FIX = join(process.cwd(), "test", "fixtures", "istio");
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });

function lines(yaml: string) {
  const r = importIstio([{ file: "x.yaml", text: yaml }]);
  return r.report.map((l) => `${l.path}: ${l.outcome}`);
}

describe("meshgate import istio: the command", () => {
  it("translates Istio's published samples; every output passes meshgate validate; exit 3 for the subset approximation", async () => {
    const out = await mkdtemp(join(tmpdir(), "istio-out-"));
    const res = run(["import", "istio", FIX, "--out", out]);
    expect(res.status).toBe(3);
    expect(res.stderr).toMatch(/virtual-service-reviews-test-v2\.yaml:document#0: spec\.http\[0\]\.route\[0\]\.destination\.subset: approximated: label subset v2 became Service reviews-v2/);
    expect(res.stderr.trim().split("\n").at(-1)).toMatch(/^lossy: 4 file\(s\), \d+ document\(s\) written \(1 file\(s\) with nothing to write\), \d+ approximated, \d+ dropped/);
    // The 50/50 file's only document is replaced: no file is written for it (validate refuses empty files).
    expect(res.stderr).toMatch(/virtual-service-reviews-50-v3\.yaml: nothing to write: every document was replaced/);
    expect((await readdir(out)).sort()).toEqual(["bookinfo-gateway.yaml", "virtual-service-ratings-test-abort.yaml", "virtual-service-reviews-test-v2.yaml"]);
    // Two reviews VirtualServices: applied in order, the later one (test-v2) replaces the 50/50 split.
    expect(res.stderr).toMatch(/virtual-service-reviews-50-v3\.yaml:document#0: : dropped: replaced by .*virtual-service-reviews-test-v2\.yaml:document#0/);
    const v = run(["validate", out]);
    expect(v.status, v.stderr).toBe(0);
  });

  it("exit 1 with file, document and field on invalid input, nothing written", async () => {
    const dir = await mkdtemp(join(tmpdir(), "istio-bad-"));
    await writeFile(join(dir, "bad.yaml"), "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: x}\nspec:\n  http: {route: 1}\n");
    const out = join(dir, "out");
    const res = run(["import", "istio", join(dir, "bad.yaml"), "--out", out]);
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("bad.yaml:document#0: spec.http: must be a list");
    await expect(readdir(out)).rejects.toThrow();
  });

  it("exit 0 for an exact translation; --help documents the command", () => {
    const r = importIstio([{ file: "a.yaml", text: "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: a}\nspec:\n  hosts: [a]\n  http:\n  - timeout: 2s\n    route: [{destination: {host: a}}]\n" }]);
    expect(r.exitCode).toBe(0);
    expect(r.outputs[0]!.documents[0]).toMatchObject({ kind: "HTTPRoute", spec: { parentRefs: [{ group: "", kind: "Service", name: "a" }], rules: [{ timeouts: { request: "2s" }, backendRefs: [{ name: "a" }] }] } });
    const help = run(["import", "--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--subset-service TEMPLATE");
  });

  it("validate names the import command for Istio kinds", async () => {
    const dir = await mkdtemp(join(tmpdir(), "istio-val-"));
    await writeFile(join(dir, "vs.yaml"), await readFile(join(FIX, "virtual-service-reviews-test-v2.yaml"), "utf8"));
    const res = run(["validate", dir]);
    expect(res.status).toBe(1);
    expect(res.stderr).toContain(`vs.yaml:document#0: kind: Istio VirtualService is not served directly; translate it with: meshgate import istio ${join(dir, "vs.yaml")}`);
  });
});

describe("report table per field", () => {
  const vs = (http: string) => `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: a}\nspec:\n  hosts: [a]\n  http:\n  - ${http}\n    route: [{destination: {host: a}}]\n`;
  it.each([
    ["match: [{uri: {exact: /x}}]", []],
    ["match: [{uri: {prefix: /api}}]", ["spec.http[0].match[0].uri.prefix: approximated"]],
    ["match: [{withoutHeaders: {x: {exact: y}}}]", ["spec.http[0].match[0].withoutHeaders: dropped"]],
    ["rewrite: {uriRegexRewrite: {match: a, rewrite: b}}", ["spec.http[0].rewrite.uriRegexRewrite: dropped"]],
    ["retries: {attempts: 3, retryOn: 'gateway-error,bogus'}", ["spec.http[0].retries.retryOn: dropped"]],
    ["fault: {delay: {fixedDelay: 7s, percentage: {value: 100}}}", []],
    ["mirror: {host: b}", []],
    ["surprise: 1", ["spec.http[0].surprise: dropped"]],
  ])("%s", (http, expected) => {
    expect(lines(vs(http))).toEqual(expected);
  });

  it("a DestinationRule's trafficPolicy becomes one BackendTrafficPolicy for the Service (and one per subset Service)", () => {
    const r = importIstio([{ file: "d.yaml", text: "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews}\nspec:\n  host: reviews\n  trafficPolicy:\n    loadBalancer: {consistentHash: {httpHeaderName: x-user}}\n    connectionPool: {tcp: {connectTimeout: 2s}, http: {http2MaxRequests: 50, http1MaxPendingRequests: 5, maxRetries: 3}}\n    tls: {mode: SIMPLE, caCertificates: /etc/ca.pem, sni: reviews.internal}\n  subsets:\n  - name: v2\n    labels: {version: v2}\n    trafficPolicy: {outlierDetection: {consecutive5xxErrors: 3}}\n" }]);
    const docs = r.outputs[0]!.documents as { kind: string; metadata: { name: string }; spec: Record<string, unknown> }[];
    expect(docs.map((d) => [d.kind, d.metadata.name, (d.spec.targetRefs as { name: string }[])[0]!.name])).toEqual([["BackendTrafficPolicy", "reviews-v2", "reviews-v2"], ["BackendTrafficPolicy", "reviews", "reviews"]]);
    expect(docs[0]!.spec.outlierDetection).toEqual({ consecutive5xx: 3, maxEjectionPercent: 10 });
    expect(docs[1]!.spec).toMatchObject({ loadBalancer: { type: "ConsistentHash", consistentHash: { header: "x-user" } }, circuitBreaker: { maxRequests: 50, maxPendingRequests: 5 }, connection: { connectTimeout: "2s" }, tls: { caFile: "/etc/ca.pem", serverName: "reviews.internal" } });
    expect(r.report.map((l) => `${l.path}: ${l.outcome}`)).toEqual(["spec.subsets[0].labels: approximated", "spec.trafficPolicy.connectionPool.http.maxRetries: dropped", "spec.trafficPolicy.tls: approximated"]);
  });

  it("a namespace-wide policy is never lost silently: applied to the Services the import names, or reported dropped", () => {
    const allowNothing = `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: allow-nothing, namespace: shop}\nspec: {}\n`;
    expect(lines(allowNothing)).toEqual(["spec.selector: dropped"]);
    const withService = `${allowNothing}---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: cart, namespace: shop}\nspec:\n  hosts: [cart]\n  http: [{route: [{destination: {host: cart}}]}]\n`;
    const r = importIstio([{ file: "x.yaml", text: withService }]);
    expect(r.report.map((l) => `${l.index}:${l.path}: ${l.outcome}: ${l.why}`)).toEqual(["0:spec.selector: approximated: namespace-wide policy applied to the Services this import names in shop (cart); add any other Service of that namespace to its targetRefs"]);
    const policy = r.outputs[0]!.documents.find((d) => (d as { kind: string }).kind === "SecurityPolicy") as { spec: { targetRefs: unknown; authorization: { rules: unknown[] } } };
    expect(policy.spec.targetRefs).toEqual([{ group: "", kind: "Service", name: "cart" }]);
    expect(policy.spec.authorization.rules).toEqual([{ name: "istio-allow-nothing", action: "DENY", match: "any" }]);
  });

  it("principals become SPIFFE IDs; DENY before ALLOW; allow-nothing denies", () => {
    const r = importIstio([{ file: "p.yaml", text: `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: allow-nothing}\nspec: {}\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: viewer}\nspec:\n  selector: {matchLabels: {app: reviews}}\n  action: ALLOW\n  rules:\n  - from: [{source: {principals: [cluster.local/ns/default/sa/bookinfo-productpage]}}]\n    to: [{operation: {methods: [GET]}}]\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny-post}\nspec:\n  selector: {matchLabels: {app: reviews}}\n  action: DENY\n  rules: [{to: [{operation: {methods: [POST]}}]}]\n` }]);
    const docs = r.outputs[0]!.documents as { kind: string; spec: { targetRefs: unknown; authorization: { rules: { action: string; principals?: string[] }[] } } }[];
    const reviews = docs.find((d) => d.kind === "SecurityPolicy")!;
    expect(reviews.spec.targetRefs).toEqual([{ group: "", kind: "Service", name: "reviews" }]);
    expect(reviews.spec.authorization.rules.map((x) => x.action)).toEqual(["DENY", "ALLOW"]);
    expect(reviews.spec.authorization.rules[1]!.principals).toEqual(["spiffe://cluster.local/ns/default/sa/bookinfo-productpage"]);
  });
});

describe("translated Bookinfo tasks served by a real meshgate serve", () => {
  let v1: TestUpstream, v2: TestUpstream, gw: CliGateway;
  beforeAll(async () => {
    [v1, v2] = [await startUpstream("reviews-v1"), await startUpstream("reviews-v2")];
    const dir = await mkdtemp(join(tmpdir(), "istio-serve-"));
    const res = run(["import", "istio", join(FIX, "virtual-service-reviews-test-v2.yaml"), "--out", dir]);
    expect(res.status).toBe(3);
    await writeFile(join(dir, "backends.yaml"), backendYaml("reviews-v1", [v1.url]) + "---\n" + backendYaml("reviews-v2", [v2.url]));
    gw = await startCliGateway(["--policies", dir, "--no-watch"]);
  });
  afterAll(async () => {
    await gw?.stop();
    await v1?.close();
    await v2?.close();
  });

  it("request routing: end-user jason reaches reviews v2, everyone else v1", async () => {
    // undici's request: fetch would replace the Host header, and mesh routes match on it.
    const jason = await request(`${gw.url}/reviews/0`, { headers: { host: "reviews:9080", "end-user": "jason" } });
    await jason.body.dump();
    expect(jason.headers["x-upstream"]).toBe("reviews-v2");
    const other = await request(`${gw.url}/reviews/0`, { headers: { host: "reviews:9080" } });
    await other.body.dump();
    expect(other.headers["x-upstream"]).toBe("reviews-v1");
  });
});
