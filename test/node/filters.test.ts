import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

let main: TestUpstream, mirrorAll: TestUpstream, mirrorHalf: TestUpstream;
let gw: TestGateway;

const ROUTES = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: filters }
spec:
  rules:
    - matches: [{ path: { value: /headers } }]
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            set: [{ name: X-Set, value: set-value }]
            add: [{ name: X-Add, value: added }]
            remove: [X-Remove]
        - type: ResponseHeaderModifier
          responseHeaderModifier:
            set: [{ name: X-Upstream, value: replaced }]
            add: [{ name: X-Resp-Add, value: r1 }]
            remove: [X-Drop-Me]
      backendRefs: [{ name: main, port: 80 }]
    - matches: [{ path: { value: /redirect/scheme } }]
      filters: [{ type: RequestRedirect, requestRedirect: { scheme: https } }]
    - matches: [{ path: { value: /redirect/full } }]
      filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org, port: 8443, statusCode: 301, path: { type: ReplaceFullPath, replaceFullPath: /new } } }]
    - matches: [{ path: { value: /redirect/prefix } }]
      filters: [{ type: RequestRedirect, requestRedirect: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /moved } } }]
    - matches: [{ path: { value: /rewrite/full } }]
      filters: [{ type: URLRewrite, urlRewrite: { hostname: internal.svc, path: { type: ReplaceFullPath, replaceFullPath: /replaced } } }]
      backendRefs: [{ name: main, port: 80 }]
    - matches: [{ path: { value: /rewrite/prefix } }]
      filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /v2 } } }]
      backendRefs: [{ name: main, port: 80 }]
    - matches: [{ path: { value: /rewrite/strip } }]
      filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: / } } }]
      backendRefs: [{ name: main, port: 80 }]
    - matches: [{ path: { value: /mirror } }]
      filters:
        - { type: RequestMirror, requestMirror: { backendRef: { name: mirror-all, port: 80 } } }
        - { type: RequestMirror, requestMirror: { backendRef: { name: mirror-half, port: 80 }, percent: 50 } }
      backendRefs: [{ name: main, port: 80 }]
    - matches: [{ path: { value: /cors } }]
      filters:
        - type: CORS
          cors: { allowOrigins: ["https://app.example.com", "https://*.trusted.dev"], allowMethods: [GET, POST], allowHeaders: [x-token], exposeHeaders: [x-upstream], maxAge: 600, allowCredentials: true }
      backendRefs: [{ name: main, port: 80 }]
    - matches: [{ path: { value: /cors-any } }]
      filters: [{ type: CORS, cors: { allowOrigins: ["*"], allowMethods: ["*"], allowHeaders: ["*"], allowCredentials: true } }]
      backendRefs: [{ name: main, port: 80 }]
`;

beforeAll(async () => {
  [main, mirrorAll, mirrorHalf] = (await Promise.all(["main", "mirror-all", "mirror-half"].map(startUpstream))) as [TestUpstream, TestUpstream, TestUpstream];
  main.respond = (req, res, body) => {
    res.writeHead(200, ["content-type", "application/json", "x-upstream", "main", "x-drop-me", "1", "set-cookie", "a=1", "set-cookie", "b=2"]);
    res.end(JSON.stringify({ url: req.url, rawHeaders: req.rawHeaders, host: req.headers.host, body }));
  };
  gw = await startTestGateway({
    "backends.yaml": [backendYaml("main", [main.url]), backendYaml("mirror-all", [mirrorAll.url]), backendYaml("mirror-half", [mirrorHalf.url])].join("---\n"),
    "routes.yaml": ROUTES,
  });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([main, mirrorAll, mirrorHalf].map((u) => u?.close()));
});

interface Raw {
  status: number;
  rawHeaders: string[];
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http so we control Host and see repeated header lines as sent. */
function send(path: string, rawHeaders: string[] = [], method = "GET"): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const headers = rawHeaders.some((h, i) => i % 2 === 0 && h.toLowerCase() === "host") ? rawHeaders : ["Host", "gateway.test", ...rawHeaders];
    const req = httpRequest(gw.url + path, { method, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, rawHeaders: res.rawHeaders, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

function lines(raw: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
  return out;
}

describe("header modifiers", () => {
  it("sets, adds as a separate line, and removes request headers", async () => {
    const res = await send("/headers", ["X-Set", "old", "X-Add", "original", "X-Remove", "gone", "Host", "svc.local"]);
    const seen = JSON.parse(res.body) as { rawHeaders: string[]; host: string };
    expect(lines(seen.rawHeaders, "x-set")).toEqual(["set-value"]);
    expect(lines(seen.rawHeaders, "x-add")).toEqual(["original", "added"]);
    expect(lines(seen.rawHeaders, "x-remove")).toEqual([]);
    expect(seen.host).toBe("svc.local");
  });

  it("sets, adds and removes response headers and keeps repeated set-cookie lines", async () => {
    const res = await send("/headers");
    expect(lines(res.rawHeaders, "x-upstream")).toEqual(["replaced"]);
    expect(lines(res.rawHeaders, "x-resp-add")).toEqual(["r1"]);
    expect(lines(res.rawHeaders, "x-drop-me")).toEqual([]);
    expect(lines(res.rawHeaders, "set-cookie")).toEqual(["a=1", "b=2"]);
  });
});

describe("forwarding headers", () => {
  it("preserves Host, method, path and query and adds forwarding headers", async () => {
    const res = await send("/headers/x?a=1&b=2", ["Host", "shop.example.com", "x-forwarded-for", "10.0.0.1"], "DELETE");
    const seen = JSON.parse(res.body) as { rawHeaders: string[]; host: string; url: string };
    expect(seen.url).toBe("/headers/x?a=1&b=2");
    expect(seen.host).toBe("shop.example.com");
    expect(lines(seen.rawHeaders, "x-forwarded-for")).toEqual(["10.0.0.1, 127.0.0.1"]);
    expect(lines(seen.rawHeaders, "x-forwarded-proto")).toEqual(["http"]);
    expect(lines(seen.rawHeaders, "x-request-id")[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines(seen.rawHeaders, "traceparent")[0]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it("keeps a trusted x-request-id and the trace id of an incoming traceparent", async () => {
    const res = await send("/headers", ["x-request-id", "abc-123", "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"]);
    const seen = JSON.parse(res.body) as { rawHeaders: string[] };
    expect(lines(seen.rawHeaders, "x-request-id")).toEqual(["abc-123"]);
    const tp = lines(seen.rawHeaders, "traceparent")[0]!;
    expect(tp.startsWith("00-0af7651916cd43dd8448eb211c80319c-")).toBe(true);
    expect(tp).not.toContain("b7ad6b7169203331");
  });

  it("strips hop-by-hop headers and the headers named in Connection", async () => {
    const res = await send("/headers", ["Connection", "keep-alive, x-secret-hop", "x-secret-hop", "1", "Keep-Alive", "timeout=5", "TE", "trailers"]);
    const seen = JSON.parse(res.body) as { rawHeaders: string[] };
    expect(lines(seen.rawHeaders, "x-secret-hop")).toEqual([]);
    expect(lines(seen.rawHeaders, "te")).toEqual([]);
    expect(lines(seen.rawHeaders, "keep-alive")).toEqual([]);
  });
});

describe("RequestRedirect", () => {
  it("changes scheme and drops the port for the scheme's well-known port", async () => {
    const res = await send("/redirect/scheme?x=1", ["Host", "shop.example.com:8080"]);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe("https://shop.example.com/redirect/scheme?x=1");
  });

  it("sets hostname, port, full path and status", async () => {
    const res = await send("/redirect/full", ["Host", "shop.example.com"]);
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe("http://example.org:8443/new");
  });

  it("replaces the matched prefix and keeps the port the client used", async () => {
    const res = await send("/redirect/prefix/a/b", ["Host", "shop.example.com:8080"]);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe("http://shop.example.com:8080/moved/a/b");
  });

  it("uses the listener port when Host has none, and never calls an upstream", async () => {
    const before = main.received.length;
    const res = await send("/redirect/prefix", ["Host", "shop.example.com"]);
    expect(res.headers.location).toBe(`http://shop.example.com:${gw.gateway.port}/moved`);
    expect(main.received.length).toBe(before);
  });
});

describe("URLRewrite", () => {
  it("replaces the full path and the Host, keeping the query", async () => {
    const seen = JSON.parse((await send("/rewrite/full/x?q=1")).body) as { url: string; host: string };
    expect(seen.url).toBe("/replaced?q=1");
    expect(seen.host).toBe("internal.svc");
  });

  it("replaces the matched prefix element-wise", async () => {
    expect((JSON.parse((await send("/rewrite/prefix/a")).body) as { url: string }).url).toBe("/v2/a");
    expect((JSON.parse((await send("/rewrite/prefix")).body) as { url: string }).url).toBe("/v2");
    expect((JSON.parse((await send("/rewrite/strip/a/b")).body) as { url: string }).url).toBe("/a/b");
    expect((JSON.parse((await send("/rewrite/strip")).body) as { url: string }).url).toBe("/");
  });
});

describe("RequestMirror", () => {
  it("copies every request to a 100% mirror and about half to a 50% mirror", async () => {
    const beforeAll = mirrorAll.received.length;
    const beforeHalf = mirrorHalf.received.length;
    const n = 400;
    for (let i = 0; i < n; i++) expect((await send(`/mirror?i=${i}`)).status).toBe(200);
    await waitFor(() => mirrorAll.received.length - beforeAll === n);
    const half = mirrorHalf.received.length - beforeHalf;
    // Binomial(400, 0.5): mean 200, sd 10; 6 sd either side never fails by chance.
    expect(half).toBeGreaterThan(140);
    expect(half).toBeLessThan(260);
    expect(mirrorAll.received.at(-1)!.url).toBe(`/mirror?i=${n - 1}`);
  });
});

describe("CORS", () => {
  it("echoes origin, method and headers for wildcards when credentials are allowed (Gateway API conformance)", async () => {
    const res = await send("/cors-any", ["Origin", "https://other.foo.com", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "x-header-1, x-header-2"], "OPTIONS");
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe("https://other.foo.com");
    expect(res.headers["access-control-allow-methods"]).toBe("PUT");
    expect(res.headers["access-control-allow-headers"]).toBe("x-header-1, x-header-2");
    expect(res.headers["access-control-allow-credentials"]).toBe("true");
  });

  it("answers an allowed preflight itself", async () => {
    const before = main.received.length;
    const res = await send("/cors", ["Origin", "https://app.example.com", "Access-Control-Request-Method", "POST"], "OPTIONS");
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe("https://app.example.com");
    expect(res.headers["access-control-allow-methods"]).toBe("GET, POST");
    expect(res.headers["access-control-allow-headers"]).toBe("x-token");
    expect(res.headers["access-control-allow-credentials"]).toBe("true");
    expect(res.headers["access-control-max-age"]).toBe("600");
    expect(res.headers["access-control-expose-headers"]).toBe("x-upstream");
    expect(main.received.length).toBe(before);
  });

  it("gives a disallowed origin no allow headers, and wildcard subdomains match", async () => {
    const denied = await send("/cors", ["Origin", "https://evil.example", "Access-Control-Request-Method", "POST"], "OPTIONS");
    expect(denied.headers["access-control-allow-origin"]).toBeUndefined();
    const sub = await send("/cors", ["Origin", "https://a.trusted.dev"]);
    expect(sub.headers["access-control-allow-origin"]).toBe("https://a.trusted.dev");
    expect(sub.headers["access-control-expose-headers"]).toBe("x-upstream");
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
