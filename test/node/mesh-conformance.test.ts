import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";
import { sendWithHost } from "../support/send-with-host.js";

/**
 * Gateway API's mesh conformance suite (conformance/tests/mesh upstream), translated: the same
 * HTTPRoutes with Service parents, real echo upstreams named echo, echo-v1 and echo-v2 behind
 * Backends named like the Services, requests addressed to the Service as a mesh client addresses
 * it (Host: echo). Every manifest runs on its own gateway, as the suite applies one at a time.
 */

const NS = "gateway-conformance-mesh";
const CONSUMER_NS = "gateway-conformance-mesh-consumer";
const upstreams: Record<string, TestUpstream> = {};
const gateways: TestGateway[] = [];

beforeAll(async () => {
  for (const name of ["echo", "echo-v1", "echo-v2"]) upstreams[name] = await startUpstream(name);
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await Promise.all(Object.values(upstreams).map((u) => u.close()));
});

function backends(): string {
  return Object.values(upstreams)
    .map((u) => `apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: ${u.name}, namespace: ${NS} }\nspec: { endpoints: [{ url: "${u.url}" }] }\n`)
    .join("---\n");
}

/** A gateway in `namespace` serving the echo Backends plus `routes`. */
async function meshGateway(routes: string, namespace = NS): Promise<TestGateway> {
  const gw = await startTestGateway({ "backends.yaml": backends(), "routes.yaml": routes }, { mesh: { namespace, clusterDomain: "cluster.local" } });
  gateways.push(gw);
  return gw;
}

interface Seen {
  status: number;
  /** Which upstream answered (null: the gateway did). */
  backend: string | null;
  /** Path and query the upstream saw. */
  url: string | null;
  requestHeaders: Record<string, string | undefined>;
  headers: Headers;
}

async function send(gw: TestGateway, host: string, path = "/", headers: Record<string, string> = {}): Promise<Seen> {
  const res = await sendWithHost(gw.url, `http://${host}${path}`, "GET", headers);
  const text = await res.text();
  const body = res.headers.get("x-upstream") ? (JSON.parse(text) as { url: string; headers: Record<string, string | undefined> }) : null;
  return { status: res.status, backend: res.headers.get("x-upstream"), url: body?.url ?? null, requestHeaders: body?.headers ?? {}, headers: res.headers };
}

const svcParent = (name: string, port?: number) => `parentRefs: [{ group: "", kind: Service, name: ${name}${port === undefined ? "" : `, port: ${port}`} }]`;

describe("MeshBasic: a Service with no route is reached as if the mesh were not there", () => {
  it("forwards Host: echo to the echo Backend unchanged", async () => {
    const gw = await meshGateway("");
    const seen = await send(gw, "echo", "/anything?x=1");
    expect(seen).toMatchObject({ status: 200, backend: "echo", url: "/anything?x=1" });
    expect(seen.requestHeaders["host"]).toBe("echo");
  });
});

describe("HTTPRouteSimpleSameNamespace and the authority spellings of a Service", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await meshGateway(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: gateway-conformance-mesh-test, namespace: ${NS} }
spec:
  ${svcParent("echo", 80)}
  rules: [{ backendRefs: [{ name: echo-v1, port: 8080 }] }]
`);
  });

  it.each(["echo", `echo.${NS}`, `echo.${NS}.svc`, `echo.${NS}.svc.cluster.local`, `echo.${NS}.svc.cluster.local.`, "ECHO", "echo:80"])("Host %s takes the route", async (host) => {
    expect(await send(gw, host)).toMatchObject({ status: 200, backend: "echo-v1" });
  });

  it("keeps the caller's Host for the upstream", async () => {
    expect((await send(gw, `echo.${NS}.svc`)).requestHeaders["host"]).toBe(`echo.${NS}.svc`);
  });

  it("a port the parentRef does not name falls to the default route", async () => {
    expect(await send(gw, "echo:8080")).toMatchObject({ status: 200, backend: "echo" });
  });

  it("authorities that only look like the Service are not it", async () => {
    for (const host of [`echo.${NS}.svc.other.domain`, "echo.other-namespace", `echo-v9.${NS}`, `x.echo.${NS}.svc.cluster.local`]) {
      expect((await send(gw, host)).status, host).toBe(404);
    }
  });
});

describe("MeshHTTPRouteMatching", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await meshGateway(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: mesh-matching, namespace: ${NS} }
spec:
  ${svcParent("echo", 80)}
  rules:
    - matches: [{ path: { type: PathPrefix, value: / } }, { headers: [{ name: version, value: one }] }]
      backendRefs: [{ name: echo-v1, port: 8080 }]
    - matches: [{ path: { type: PathPrefix, value: /v2 } }, { headers: [{ name: version, value: two }] }]
      backendRefs: [{ name: echo-v2, port: 8080 }]
`);
  });

  it.each([
    ["/", {}, "echo-v1"],
    ["/example", {}, "echo-v1"],
    ["/", { version: "one" }, "echo-v1"],
    ["/v2", {}, "echo-v2"],
    ["/v2/example", {}, "echo-v2"],
    ["/", { version: "two" }, "echo-v2"],
    ["/v2/", {}, "echo-v2"],
    ["/v2example", {}, "echo-v1"],
    ["/foo/v2/example", {}, "echo-v1"],
  ] as const)("%s %o → %s", async (path, headers, backend) => {
    expect(await send(gw, "echo", path, headers)).toMatchObject({ status: 200, backend });
  });
});

describe("MeshHTTPRouteQueryParamMatching: a Service with routes refuses what none matches", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await meshGateway(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: mesh-query-param-matching, namespace: ${NS} }
spec:
  ${svcParent("echo", 80)}
  rules:
    - matches: [{ queryParams: [{ name: animal, value: whale }] }]
      backendRefs: [{ name: echo-v1, port: 8080 }]
    - matches: [{ queryParams: [{ name: animal, value: dolphin }] }]
      backendRefs: [{ name: echo-v2, port: 8080 }]
    - matches: [{ path: { type: PathPrefix, value: /path1 }, queryParams: [{ name: animal, value: whale }] }]
      backendRefs: [{ name: echo-v1, port: 8080 }]
    - matches: [{ headers: [{ name: version, value: one }], queryParams: [{ name: animal, value: whale }] }]
      backendRefs: [{ name: echo-v2, port: 8080 }]
    - matches:
        - { path: { type: PathPrefix, value: /path3 }, queryParams: [{ name: animal, value: shark }] }
        - { path: { type: PathPrefix, value: /path4 }, headers: [{ name: version, value: three }], queryParams: [{ name: animal, value: kraken }] }
      backendRefs: [{ name: echo-v1, port: 8080 }]
    - matches: [{ path: { type: PathPrefix, value: /path5 } }]
      backendRefs: [{ name: echo-v1, port: 8080 }]
    - matches: [{ queryParams: [{ name: animal, value: hydra }] }]
      backendRefs: [{ name: echo-v2, port: 8080 }]
`);
  });

  it.each([
    ["/?animal=whale", {}, "echo-v1"],
    ["/?animal=dolphin", {}, "echo-v2"],
    ["/?animal=whale&otherparam=irrelevant", {}, "echo-v1"],
    ["/?animal=dolphin&color=yellow", {}, "echo-v2"],
    ["/path1?animal=whale", {}, "echo-v1"],
    ["/?animal=whale", { version: "one" }, "echo-v2"],
    ["/path3?animal=shark", {}, "echo-v1"],
    ["/path4?animal=kraken", { version: "three" }, "echo-v1"],
    ["/path5?animal=hydra", {}, "echo-v1"],
  ] as const)("%s %o → %s", async (path, headers, backend) => {
    expect(await send(gw, "echo", path, headers)).toMatchObject({ status: 200, backend });
  });

  it.each(["/?color=blue", "/?animal=dog", "/?animal=whaledolphin", "/", "/?animal=shark", "/path4?animal=kraken"])("%s → 404, not the echo Backend", async (path) => {
    const before = upstreams["echo"]!.received.length;
    const seen = await send(gw, "echo", path);
    expect(seen).toMatchObject({ status: 404, backend: null });
    expect(upstreams["echo"]!.received.length).toBe(before);
  });
});

describe("MeshHTTPRouteWeight", () => {
  it("splits 70/30 between echo-v1 and echo-v2", async () => {
    const gw = await meshGateway(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: mesh-weighted-backends, namespace: ${NS} }
spec:
  ${svcParent("echo", 80)}
  rules:
    - backendRefs:
        - { name: echo-v1, port: 8080, weight: 70 }
        - { name: echo-v2, port: 8080, weight: 30 }
`);
    const counts: Record<string, number> = {};
    const n = 400;
    for (let i = 0; i < n; i++) {
      const b = (await send(gw, "echo")).backend ?? "none";
      counts[b] = (counts[b] ?? 0) + 1;
    }
    expect(Object.keys(counts).sort()).toEqual(["echo-v1", "echo-v2"]);
    // Binomial(400, 0.7): the standard deviation is ~9 requests; 6 of them either side never fails by chance.
    expect(counts["echo-v1"]!).toBeGreaterThan(280 - 55);
    expect(counts["echo-v1"]!).toBeLessThan(280 + 55);
  });
});

const headerRules = (where: "rule" | "backend") => {
  const rows: [string, string][] = [
    ["/set", "set: [{ name: X-Header-Set, value: set-overwrites-values }]"],
    ["/add", "add: [{ name: X-Header-Add, value: add-appends-values }]"],
    ["/remove", "remove: [X-Header-Remove]"],
    [
      "/multiple",
      "set: [{ name: X-Header-Set-1, value: header-set-1 }, { name: X-Header-Set-2, value: header-set-2 }], add: [{ name: X-Header-Add-1, value: header-add-1 }, { name: X-Header-Add-2, value: header-add-2 }, { name: X-Header-Add-3, value: header-add-3 }], remove: [X-Header-Remove-1, X-Header-Remove-2]",
    ],
    ["/case-insensitivity", "set: [{ name: X-Header-Set, value: header-set }], add: [{ name: X-Header-Add, value: header-add }], remove: [X-Header-Remove]"],
  ];
  return rows
    .map(([path, mod]) => {
      const filters = `filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { ${mod} } }]`;
      return where === "rule"
        ? `    - matches: [{ path: { type: PathPrefix, value: ${path} } }]\n      ${filters}\n      backendRefs: [{ name: echo-v1, port: 8080 }]`
        : `    - matches: [{ path: { type: PathPrefix, value: ${path} } }]\n      backendRefs: [{ name: echo-v1, port: 8080, ${filters} }]`;
    })
    .join("\n");
};

// The upstream is node:http, which joins repeated header lines with ", " (the suite's echo server with ",").
describe.each(["rule", "backend"] as const)("MeshHTTPRouteRequestHeaderModifier (%s filters)", (where) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await meshGateway(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: mesh-request-header-modifier, namespace: ${NS} }
spec:
  ${svcParent("echo", 80)}
  rules:
${headerRules(where)}
`);
  });

  it.each([
    ["/set", {}, { "x-header-set": "set-overwrites-values" }],
    ["/set", { "Some-Other-Header": "val" }, { "x-header-set": "set-overwrites-values", "some-other-header": "val" }],
    ["/set", { "X-Header-Set": "some-other-value" }, { "x-header-set": "set-overwrites-values" }],
    ["/add", {}, { "x-header-add": "add-appends-values" }],
    ["/add", { "X-Header-Add": "some-other-value" }, { "x-header-add": "some-other-value, add-appends-values" }],
    ["/remove", { "X-Header-Remove": "val" }, { "x-header-remove": undefined }],
    [
      "/multiple",
      { "X-Header-Set-2": "set-val-2", "X-Header-Add-2": "add-val-2", "X-Header-Add-3": "add-val-3", "X-Header-Remove-1": "rm-1", "X-Header-Remove-2": "rm-2", Another: "x" },
      { "x-header-set-1": "header-set-1", "x-header-set-2": "header-set-2", "x-header-add-1": "header-add-1", "x-header-add-2": "add-val-2, header-add-2", "x-header-add-3": "add-val-3, header-add-3", "x-header-remove-1": undefined, "x-header-remove-2": undefined, another: "x" },
    ],
    ["/case-insensitivity", { "x-header-set": "original-val-set", "x-header-add": "original-val-add", "x-header-remove": "original-val-remove" }, { "x-header-set": "header-set", "x-header-add": "original-val-add, header-add", "x-header-remove": undefined }],
  ] as const)("%s %o", async (path, headers, want) => {
    const seen = await send(gw, "echo", path, headers);
    expect(seen).toMatchObject({ status: 200, backend: "echo-v1" });
    for (const [name, value] of Object.entries(want)) expect(seen.requestHeaders[name], name).toBe(value);
  });
});

describe("MeshHTTPRouteRedirect (303, 307, 308, host and status, path, port, scheme): the Service port is kept", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    const redirect = (path: string, spec: string) => `    - matches: [{ path: { type: PathPrefix, value: ${path} } }]\n      filters: [{ type: RequestRedirect, requestRedirect: { ${spec} } }]`;
    gw = await meshGateway(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: mesh-redirects, namespace: ${NS} }
spec:
  ${svcParent("echo")}
  rules:
${[
  redirect("/redirect-303", "statusCode: 303"),
  redirect("/redirect-307", "statusCode: 307"),
  redirect("/redirect-308", "statusCode: 308"),
  redirect("/hostname-redirect", "hostname: example.org"),
  redirect("/host-and-status", "statusCode: 301, hostname: example.org"),
  redirect("/original-prefix", "path: { type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix }"),
  redirect("/full", "path: { type: ReplaceFullPath, replaceFullPath: /full-path-replacement }"),
  redirect("/path-and-host", "hostname: example.org, path: { type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix }"),
  redirect("/port", "port: 8083"),
  redirect("/port-and-host", "hostname: example.org, port: 8083"),
  redirect("/scheme", "scheme: https"),
  redirect("/scheme-and-host", "hostname: example.org, scheme: https"),
  redirect("/scheme-and-status", "scheme: https, statusCode: 301"),
].join("\n")}
`);
  });

  it.each([
    ["echo", "/redirect-303", 303, "http://echo/redirect-303"],
    ["echo", "/redirect-307", 307, "http://echo/redirect-307"],
    ["echo", "/redirect-308", 308, "http://echo/redirect-308"],
    ["echo", "/hostname-redirect", 302, "http://example.org/hostname-redirect"],
    ["echo", "/host-and-status", 301, "http://example.org/host-and-status"],
    ["echo", "/original-prefix/lemon", 302, "http://echo/replacement-prefix/lemon"],
    ["echo", "/full/path/original", 302, "http://echo/full-path-replacement"],
    ["echo", "/path-and-host", 302, "http://example.org/replacement-prefix"],
    ["echo", "/port", 302, "http://echo:8083/port"],
    ["echo", "/port-and-host", 302, "http://example.org:8083/port-and-host"],
    ["echo", "/scheme", 302, "https://echo/scheme"],
    ["echo", "/scheme-and-host", 302, "https://example.org/scheme-and-host"],
    ["echo", "/scheme-and-status", 301, "https://echo/scheme-and-status"],
    // The port the caller addressed is the Service's, kept as it was written; the gateway's own --port never shows.
    ["echo:8080", "/redirect-303", 303, "http://echo:8080/redirect-303"],
    ["echo:8080", "/hostname-redirect", 302, "http://example.org:8080/hostname-redirect"],
    [`echo.${NS}.svc:9080`, "/full/x?q=1", 302, `http://echo.${NS}.svc:9080/full-path-replacement?q=1`],
    ["echo:8080", "/scheme", 302, "https://echo/scheme"],
  ] as const)("%s%s → %i %s", async (host, path, status, location) => {
    const seen = await send(gw, host, path);
    expect(seen.status).toBe(status);
    expect(seen.headers.get("location")).toBe(location);
  });
});

describe("MeshHTTPRouteRewritePath", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    const mods = "{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: X-Header-Set, value: set-overwrites-values }], add: [{ name: X-Header-Add, value: header-val-1 }, { name: X-Header-Add-Append, value: header-val-2 }], remove: [X-Header-Remove] } }";
    const rule = (path: string, rewrite: string, extra = "") => `    - matches: [{ path: { type: PathPrefix, value: ${path} } }]\n      filters: [{ type: URLRewrite, urlRewrite: { path: { ${rewrite} } } }${extra}]\n      backendRefs: [{ name: echo-v1, port: 80 }]`;
    gw = await meshGateway(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: mesh-rewrite-path, namespace: ${NS} }
spec:
  ${svcParent("echo", 80)}
  rules:
${rule("/prefix/one", "type: ReplacePrefixMatch, replacePrefixMatch: /one")}
${rule("/strip-prefix", "type: ReplacePrefixMatch, replacePrefixMatch: /")}
${rule("/full/one", "type: ReplaceFullPath, replaceFullPath: /one")}
${rule("/full/rewrite-path-and-modify-headers", "type: ReplaceFullPath, replaceFullPath: /test", `, ${mods}`)}
${rule("/prefix/rewrite-path-and-modify-headers", "type: ReplacePrefixMatch, replacePrefixMatch: /prefix", `, ${mods}`)}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: mesh-rewrite-host, namespace: ${NS} }
spec:
  ${svcParent("echo-v2")}
  rules:
    - filters: [{ type: URLRewrite, urlRewrite: { hostname: rewritten.example } }]
      backendRefs: [{ name: echo-v2 }]
`);
  });

  it.each([
    ["/prefix/one/two", "/one/two"],
    ["/strip-prefix/three", "/three"],
    ["/strip-prefix", "/"],
    ["/full/one/two", "/one"],
  ])("%s → upstream %s", async (path, want) => {
    expect(await send(gw, "echo", path)).toMatchObject({ status: 200, backend: "echo-v1", url: want });
  });

  it.each([
    ["/full/rewrite-path-and-modify-headers/test", "/test"],
    ["/prefix/rewrite-path-and-modify-headers/one", "/prefix/one"],
  ])("%s → upstream %s with modified headers", async (path, want) => {
    const seen = await send(gw, "echo", path, { "X-Header-Remove": "remove-val", "X-Header-Add-Append": "append-val-1", "X-Header-Set": "set-val" });
    expect(seen).toMatchObject({ status: 200, backend: "echo-v1", url: want });
    expect(seen.requestHeaders).toMatchObject({ "x-header-add": "header-val-1", "x-header-add-append": "append-val-1, header-val-2", "x-header-set": "set-overwrites-values" });
    expect(seen.requestHeaders["x-header-remove"]).toBeUndefined();
  });

  it("a hostname rewrite keeps the port the caller addressed", async () => {
    expect((await send(gw, "echo-v2:8080")).requestHeaders["host"]).toBe("rewritten.example:8080");
    expect((await send(gw, "echo-v2")).requestHeaders["host"]).toBe("rewritten.example");
  });
});

describe("MeshHTTPRouteNamedRule", () => {
  it("routes by named and unnamed rules alike, and names the rule in explain", async () => {
    const gw = await meshGateway(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: mesh-http-named-rules, namespace: ${NS} }
spec:
  ${svcParent("echo", 80)}
  rules:
    - name: named-rule
      matches: [{ path: { type: PathPrefix, value: /named } }]
      backendRefs: [{ name: echo-v1, port: 8080 }]
    - matches: [{ path: { type: PathPrefix, value: /unnamed } }]
      backendRefs: [{ name: echo-v2, port: 8080 }]
`);
    expect(await send(gw, "echo", "/named")).toMatchObject({ status: 200, backend: "echo-v1", url: "/named" });
    expect(await send(gw, "echo", "/unnamed")).toMatchObject({ status: 200, backend: "echo-v2", url: "/unnamed" });
    const trail = (await (await fetch(`${gw.adminUrl}/explain`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ method: "GET", url: "http://echo/named" }) })).json()) as { rule: { id: string } };
    expect(trail.rule.id).toBe(`${NS}/mesh-http-named-rules/named-rule`);
  });
});

describe("MeshPorts: a parentRef port narrows the route to that Service port", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    const route = (name: string, service: string, port: number | undefined, value: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: ${NS} }
spec:
  ${svcParent(service, port)}
  rules:
    - filters: [{ type: ResponseHeaderModifier, responseHeaderModifier: { set: [{ name: X-Header-Set, value: ${value} }] } }]
      backendRefs: [{ name: ${service}, port: 80 }]
`;
    gw = await meshGateway(`${route("mesh-split-v1", "echo-v1", 80, "v1")}---\n${route("mesh-split-v2", "echo-v2", undefined, "v2")}`);
  });

  it.each([
    ["echo-v1", "echo-v1", "v1"],
    ["echo-v1:80", "echo-v1", "v1"],
    ["echo-v1:8080", "echo-v1", null],
    ["echo-v2", "echo-v2", "v2"],
    ["echo-v2:8080", "echo-v2", "v2"],
  ] as const)("Host %s → %s, X-Header-Set %s", async (host, backend, header) => {
    const seen = await send(gw, host);
    expect(seen).toMatchObject({ status: 200, backend });
    expect(seen.headers.get("x-header-set")).toBe(header);
  });
});

describe("MeshTrafficSplit", () => {
  it("splits one Service between two versions by path", async () => {
    const gw = await meshGateway(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: mesh-split, namespace: ${NS} }
spec:
  ${svcParent("echo")}
  rules:
    - matches: [{ path: { type: Exact, value: /v1 } }]
      backendRefs: [{ name: echo-v1, port: 80 }]
    - matches: [{ path: { type: Exact, value: /v2 } }]
      backendRefs: [{ name: echo-v2, port: 80 }]
`);
    expect(await send(gw, "echo", "/v1")).toMatchObject({ status: 200, backend: "echo-v1" });
    expect(await send(gw, "echo", "/v2")).toMatchObject({ status: 200, backend: "echo-v2" });
    expect((await send(gw, "echo", "/v3")).status).toBe(404);
  });
});

describe("MeshFrontend: mesh rules apply to the Service they name only", () => {
  it("the route's header is on Host: echo-v2, not on other Services nor on ingress traffic to the same upstream", async () => {
    const gw = await meshGateway(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: mesh-split-v1, namespace: ${NS} }
spec:
  ${svcParent("echo-v2")}
  rules:
    - filters: [{ type: ResponseHeaderModifier, responseHeaderModifier: { set: [{ name: X-Header-Set, value: set }] } }]
      backendRefs: [{ name: echo-v2, port: 80 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ingress, namespace: ${NS} }
spec:
  rules: [{ backendRefs: [{ name: echo-v2 }] }]
`);
    const service = await send(gw, "echo-v2");
    expect(service).toMatchObject({ status: 200, backend: "echo-v2" });
    expect(service.headers.get("x-header-set")).toBe("set");
    const other = await send(gw, "echo-v1");
    expect(other).toMatchObject({ status: 200, backend: "echo-v1" });
    expect(other.headers.get("x-header-set")).toBeNull();
    // An authority naming no Service (the pod's address) is ingress traffic: the mesh route is not applied.
    const direct = await send(gw, `127.0.0.1:${upstreams["echo-v2"]!.port}`);
    expect(direct).toMatchObject({ status: 200, backend: "echo-v2" });
    expect(direct.headers.get("x-header-set")).toBeNull();
  });
});

describe("MeshConsumerRoute: a route in another namespace applies to that namespace's callers only", () => {
  const consumerRoute = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: mesh-echo-add-header, namespace: ${CONSUMER_NS} }
spec:
  parentRefs: [{ group: "", kind: Service, name: echo-v1, namespace: ${NS} }]
  rules:
    - filters: [{ type: ResponseHeaderModifier, responseHeaderModifier: { set: [{ name: X-Header-Set, value: set } ] } }]
      backendRefs: [{ name: echo-v1, namespace: ${NS}, port: 80 }]
`;
  const producerRoute = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: echo-v1-producer, namespace: ${NS} }
spec:
  ${svcParent("echo-v1")}
  rules:
    - filters: [{ type: ResponseHeaderModifier, responseHeaderModifier: { set: [{ name: X-Producer, value: "yes" }] } }]
      backendRefs: [{ name: echo-v1, port: 80 }]
    - matches: [{ path: { value: /v2-only } }]
      backendRefs: [{ name: echo-v2, port: 80 }]
`;

  it("callers in the consumer namespace get the consumer route; callers in the Service's namespace do not", async () => {
    const consumer = await meshGateway(consumerRoute, CONSUMER_NS);
    const producer = await meshGateway(consumerRoute, NS);
    const fromConsumer = await send(consumer, `echo-v1.${NS}`);
    expect(fromConsumer).toMatchObject({ status: 200, backend: "echo-v1" });
    expect(fromConsumer.headers.get("x-header-set")).toBe("set");
    const fromProducer = await send(producer, `echo-v1.${NS}`);
    expect(fromProducer).toMatchObject({ status: 200, backend: "echo-v1" });
    expect(fromProducer.headers.get("x-header-set")).toBeNull();
    // A bare Service name means the caller's own namespace: from the consumer namespace "echo-v1" is not this Service.
    expect((await send(consumer, "echo-v1")).status).toBe(404);
  });

  it("for its callers the consumer route replaces the producer route; everyone else keeps the producer route", async () => {
    const both = `${consumerRoute}---\n${producerRoute}`;
    const consumer = await meshGateway(both, CONSUMER_NS);
    const producer = await meshGateway(both, NS);
    const third = await meshGateway(both, "somewhere-else");
    const c = await send(consumer, `echo-v1.${NS}.svc.cluster.local`, "/v2-only");
    expect(c).toMatchObject({ status: 200, backend: "echo-v1" });
    expect([c.headers.get("x-header-set"), c.headers.get("x-producer")]).toEqual(["set", null]);
    for (const gw of [producer, third]) {
      const p = await send(gw, `echo-v1.${NS}.svc.cluster.local`);
      expect([p.backend, p.headers.get("x-header-set"), p.headers.get("x-producer")]).toEqual(["echo-v1", null, "yes"]);
      expect((await send(gw, `echo-v1.${NS}.svc.cluster.local`, "/v2-only")).backend).toBe("echo-v2");
    }
  });
});

describe("a route with both Gateway and Service parents: each parent applies its own way", () => {
  const both = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: both, namespace: ${NS} }
spec:
  parentRefs: [{ name: edge }, { group: "", kind: Service, name: echo, port: 80 }]
  hostnames: [shop.example.com]
  rules:
    - matches: [{ path: { value: /both } }]
      filters: [{ type: ResponseHeaderModifier, responseHeaderModifier: { set: [{ name: X-Route, value: both } ] } }]
      backendRefs: [{ name: echo-v1 }]
`;

  it("with the Gateway document: its listener's hostnames for ingress, the Service's authorities for the mesh", async () => {
    const gw = await meshGateway(`${both}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: edge, namespace: ${NS} }
spec:
  gatewayClassName: meshgate
  listeners: [{ name: web, hostname: "*.example.com", port: 80, protocol: HTTP }]
`);
    for (const host of ["shop.example.com", "echo", `echo.${NS}.svc.cluster.local`]) {
      const seen = await send(gw, host, "/both/x");
      expect([seen.status, seen.backend, seen.headers.get("x-route")], host).toEqual([200, "echo-v1", "both"]);
    }
    // The route's hostnames narrow its Gateway parent, not its Service parent; nothing else is served.
    expect((await send(gw, "other.example.com", "/both")).status).toBe(404);
    expect((await send(gw, "echo", "/elsewhere")).status).toBe(404);
    expect(gw.gateway.holder.current().warnings.map((w) => w.message)).toEqual([]);
  });

  it("without it: the Gateway parent is ignored (with a warning) and the route serves its hostnames; the Service parent still applies", async () => {
    const gw = await meshGateway(both);
    expect((await send(gw, "shop.example.com", "/both")).backend).toBe("echo-v1");
    expect((await send(gw, "echo", "/both")).backend).toBe("echo-v1");
    expect((await send(gw, "unrelated.test", "/both")).status).toBe(404);
    expect(gw.gateway.holder.current().warnings.map((w) => w.message)).toEqual([expect.stringMatching(/^names Gateway gateway-conformance-mesh\/edge, but no Gateway document is loaded: the route serves shop\.example\.com as if it had no parentRefs$/)]);
  });
});

describe("a mesh route on a gateway with Gateway documents", () => {
  it("is served and draws no 'not attached to any listener' warning, and Gateway-wide policies leave it alone", async () => {
    const gw = await meshGateway(`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: edge, namespace: ${NS} }
spec:
  gatewayClassName: meshgate
  listeners: [{ name: web, port: 80, protocol: HTTP }]
---
apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: edge-deny, namespace: ${NS} }
spec:
  targetRefs: [{ group: gateway.networking.k8s.io, kind: Gateway, name: edge }]
  authorization: { rules: [{ name: deny-all, action: DENY, match: any }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: mesh-only, namespace: ${NS} }
spec:
  ${svcParent("echo")}
  rules: [{ backendRefs: [{ name: echo-v2 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ingress, namespace: ${NS} }
spec:
  parentRefs: [{ name: edge }]
  rules: [{ backendRefs: [{ name: echo-v1 }] }]
`);
    expect(await send(gw, "echo")).toMatchObject({ status: 200, backend: "echo-v2" });
    expect((await send(gw, "web.test")).status).toBe(403); // the Gateway-wide policy does apply to the Gateway's routes
    expect(gw.gateway.holder.current().warnings.map((w) => w.message)).toEqual([]);
  });
});

describe("the access log names the Service the authority named", () => {
  it("mesh_service and mesh_route (producer, consumer, default); null for ingress traffic", async () => {
    const { mkdtemp, readFile } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const log = join(await mkdtemp(join(tmpdir(), "meshgate-mesh-log-")), "access.log");
    const gw = await startTestGateway(
      {
        "backends.yaml": backends(),
        "routes.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: split, namespace: ${NS} }
spec:
  ${svcParent("echo")}
  rules: [{ backendRefs: [{ name: echo-v1 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ingress, namespace: ${NS} }
spec:
  rules: [{ backendRefs: [{ name: echo-v2 }] }]
`,
      },
      { mesh: { namespace: NS, clusterDomain: "cluster.local" }, accessLog: log },
    );
    gateways.push(gw);
    const ids = { "echo": "log-mesh", "echo-v2": "log-default", "outside.test": "log-ingress" } as const;
    for (const [host, id] of Object.entries(ids)) expect((await send(gw, host, "/", { "x-request-id": id })).status).toBe(200);
    const entries = async () => (await readFile(log, "utf8").catch(() => "")).trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const { until } = await import("../support/cli-gateway.js");
    await until(async () => (await entries()).length >= 3, 3_000, "access log lines");
    const byId = Object.fromEntries((await entries()).map((e) => [e.request_id, e]));
    expect(byId["log-mesh"]).toMatchObject({ mesh_service: `${NS}/echo`, mesh_route: "producer", route_name: `${NS}/split/rule-0`, backend: `${NS}/echo-v1` });
    expect(byId["log-default"]).toMatchObject({ mesh_service: `${NS}/echo-v2`, mesh_route: "default", route_name: `${NS}/echo-v2/default-route`, backend: `${NS}/echo-v2` });
    expect(byId["log-ingress"]).toMatchObject({ mesh_service: null, mesh_route: null, route_name: `${NS}/ingress/rule-0` });
  });
});
