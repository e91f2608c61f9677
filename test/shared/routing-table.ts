/**
 * One table of routing behaviour, run against the Node gateway (test/node/shared-routing.test.ts)
 * and inside workerd (test/workers/shared-routing.test.ts). Every backend points at the same
 * echo upstream; a per-backendRef header says which ref the gateway chose.
 */

export interface RoutingCase {
  readonly name: string;
  readonly method?: string;
  /** Absolute URL: its host is the request's Host. */
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly expect: {
    readonly status: number;
    /** Value of x-routed-to the upstream saw (which backendRef was chosen). */
    readonly routedTo?: string;
    /** Path and query the upstream saw. */
    readonly upstreamUrl?: string;
    readonly upstreamHeaders?: Record<string, string | null>;
    readonly responseHeaders?: Record<string, string | null>;
    readonly errorCode?: string;
  };
}

const ref = (name: string, backend = "echo", weight?: number) =>
  `{ name: ${backend}${weight === undefined ? "" : `, weight: ${weight}`}, filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: x-routed-to, value: ${name} }] } }] }`;

export function routingPolicies(upstreamOrigin: string): { name: string; text: string }[] {
  return [
    {
      name: "backends.yaml",
      text: `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: echo }
spec: { endpoints: [{ url: "${upstreamOrigin}" }] }
`,
    },
    {
      name: "routes.yaml",
      text: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: paths }
spec:
  rules:
    - matches: [{ path: { type: PathPrefix, value: /shop } }]
      backendRefs: [${ref("shop-prefix")}]
    - matches: [{ path: { type: Exact, value: /shop/cart } }]
      backendRefs: [${ref("shop-cart-exact")}]
    - matches: [{ path: { type: PathPrefix, value: /shop/items } }]
      backendRefs: [${ref("shop-items")}]
    - matches: [{ path: { value: /h }, headers: [{ name: x-canary, value: "yes" }] }]
      backendRefs: [${ref("h-canary")}]
    - matches: [{ path: { value: /h } }]
      backendRefs: [${ref("h-stable")}]
    - matches: [{ path: { value: /q }, queryParams: [{ name: debug, value: "1" }] }]
      backendRefs: [${ref("q-debug")}]
    - matches: [{ path: { value: /q } }]
      backendRefs: [${ref("q-plain")}]
    - matches: [{ path: { value: /m }, method: DELETE }]
      backendRefs: [${ref("m-delete")}]
    - matches: [{ path: { value: /m } }]
      backendRefs: [${ref("m-any")}]
    - matches: [{ path: { value: /secure } }]
      filters: [{ type: RequestRedirect, requestRedirect: { scheme: https, statusCode: 301 } }]
    - matches: [{ path: { value: /old } }]
      filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /new } } }]
      backendRefs: [${ref("rewrite")}]
    - matches: [{ path: { value: /decorate } }]
      filters:
        - { type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: x-env, value: prod }], remove: [x-debug] } }
        - { type: ResponseHeaderModifier, responseHeaderModifier: { add: [{ name: x-gateway, value: meshgate }] } }
      backendRefs: [${ref("decorate")}]
    - matches: [{ path: { value: /ghost } }]
      backendRefs: [{ name: not-a-backend }]
    - matches: [{ path: { value: /split } }]
      backendRefs: [${ref("split-live", "echo", 1)}, ${ref("split-dark", "echo", 0)}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: regexes }
spec:
  rules:
    # Catastrophic patterns for a backtracking engine; RE2 answers them in linear time.
    - matches: [{ path: { type: RegularExpression, value: "/r/(a+)+" } }]
      backendRefs: [${ref("regex-path")}]
    - matches: [{ path: { value: /rh }, headers: [{ type: RegularExpression, name: x-user, value: "(a+)+b" }] }]
      backendRefs: [${ref("regex-header")}]
    - matches: [{ path: { value: /rh } }]
      backendRefs: [${ref("rh-plain")}]
    - matches: [{ path: { value: /rq }, queryParams: [{ type: RegularExpression, name: id, value: "([0-9]+)+x" }] }]
      backendRefs: [${ref("regex-query")}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: hosts-exact }
spec:
  hostnames: [api.example.com]
  rules: [{ matches: [{ path: { value: /who } }], backendRefs: [${ref("host-exact")}] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: hosts-wildcard }
spec:
  hostnames: ["*.example.com"]
  rules: [{ matches: [{ path: { value: /who } }], backendRefs: [${ref("host-wildcard")}] }]
`,
    },
    {
      // East-west (GAMMA): routes whose parent is a Service, read from the authority; the gateway's namespace is "default".
      name: "mesh.yaml",
      text: `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: details }
spec: { endpoints: [{ url: "${upstreamOrigin}" }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: reviews }
spec:
  parentRefs: [{ group: "", kind: Service, name: reviews }]
  hostnames: [narrows-nothing.example]
  rules:
    - matches: [{ path: { value: /r } }]
      backendRefs: [${ref("mesh-reviews")}]
    - matches: [{ path: { value: /moved } }]
      filters: [{ type: RequestRedirect, requestRedirect: { path: { type: ReplaceFullPath, replaceFullPath: /new-place } } }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: reviews-for-others, namespace: other }
spec:
  parentRefs: [{ group: "", kind: Service, name: reviews, namespace: default }]
  rules: [{ backendRefs: [${ref("consumer-of-other", "echo")}] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: details-9080 }
spec:
  parentRefs: [{ group: "", kind: Service, name: details, port: 9080 }]
  rules: [{ backendRefs: [${ref("details-9080", "details")}] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ratings, namespace: shop }
spec:
  parentRefs: [{ group: "", kind: Service, name: ratings }]
  rules: [{ backendRefs: [{ name: echo, namespace: default }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ratings-for-default }
spec:
  parentRefs: [{ group: "", kind: Service, name: ratings, namespace: shop }]
  rules: [{ backendRefs: [${ref("ratings-consumer")}] }]
`,
    },
  ];
}

export const ROUTING_CASES: readonly RoutingCase[] = [
  { name: "exact path beats a shorter prefix", url: "http://any.test/shop/cart", expect: { status: 200, routedTo: "shop-cart-exact" } },
  { name: "longest prefix wins", url: "http://any.test/shop/items/42", expect: { status: 200, routedTo: "shop-items" } },
  { name: "prefix matches whole path elements", url: "http://any.test/shopping", expect: { status: 404, errorCode: "no_route" } },
  { name: "prefix keeps path and query", url: "http://any.test/shop/x?a=1&b=2", expect: { status: 200, routedTo: "shop-prefix", upstreamUrl: "/shop/x?a=1&b=2" } },
  { name: "header match wins over no match", url: "http://any.test/h", headers: { "x-canary": "yes" }, expect: { status: 200, routedTo: "h-canary" } },
  { name: "header mismatch falls through", url: "http://any.test/h", headers: { "x-canary": "no" }, expect: { status: 200, routedTo: "h-stable" } },
  { name: "query match", url: "http://any.test/q?debug=1", expect: { status: 200, routedTo: "q-debug" } },
  { name: "method match", method: "DELETE", url: "http://any.test/m", expect: { status: 200, routedTo: "m-delete" } },
  { name: "other methods fall through", method: "GET", url: "http://any.test/m", expect: { status: 200, routedTo: "m-any" } },
  { name: "exact hostname beats wildcard", url: "http://api.example.com/who", expect: { status: 200, routedTo: "host-exact" } },
  { name: "wildcard hostname", url: "http://web.example.com/who", expect: { status: 200, routedTo: "host-wildcard" } },
  { name: "wildcard does not cover the apex", url: "http://example.com/who", expect: { status: 404, errorCode: "no_route" } },
  {
    name: "redirect to https drops the port",
    url: "http://shop.example.net:8080/secure?x=1",
    expect: { status: 301, responseHeaders: { location: "https://shop.example.net/secure?x=1" } },
  },
  { name: "prefix rewrite", url: "http://any.test/old/page?p=2", expect: { status: 200, routedTo: "rewrite", upstreamUrl: "/new/page?p=2" } },
  {
    name: "request and response header modifiers",
    url: "http://any.test/decorate",
    headers: { "x-debug": "1", "x-env": "dev" },
    expect: { status: 200, routedTo: "decorate", upstreamHeaders: { "x-env": "prod", "x-debug": null }, responseHeaders: { "x-gateway": "meshgate" } },
  },
  { name: "unresolvable backendRef answers 500", url: "http://any.test/ghost", expect: { status: 500, errorCode: "backend_not_found" } },
  { name: "weight 0 never receives traffic", url: "http://any.test/split", expect: { status: 200, routedTo: "split-live" } },
  { name: "regex path match", url: "http://any.test/r/aaaa", expect: { status: 200, routedTo: "regex-path" } },
  { name: "regex path is anchored to the whole path", url: "http://any.test/x/r/aaaa", expect: { status: 404, errorCode: "no_route" } },
  { name: "ReDoS path (a+)+ with 40 characters answers at once", url: `http://any.test/r/${"a".repeat(40)}!`, expect: { status: 404, errorCode: "no_route" } },
  { name: "regex header match", url: "http://any.test/rh", headers: { "x-user": "aaab" }, expect: { status: 200, routedTo: "regex-header" } },
  { name: "ReDoS header (a+)+b with 40 characters falls through at once", url: "http://any.test/rh", headers: { "x-user": `${"a".repeat(40)}!` }, expect: { status: 200, routedTo: "rh-plain" } },
  { name: "regex query match", url: "http://any.test/rq?id=123x", expect: { status: 200, routedTo: "regex-query" } },
  { name: "ReDoS query ([0-9]+)+x with 40 digits answers at once", url: `http://any.test/rq?id=${"1".repeat(40)}!`, expect: { status: 404, errorCode: "no_route" } },
  { name: "no route answers 404", url: "http://any.test/nowhere", expect: { status: 404, errorCode: "no_route" } },
  { name: "mesh: a bare Service name takes the Service's route", url: "http://reviews/r", expect: { status: 200, routedTo: "mesh-reviews" } },
  { name: "mesh: S.N.svc.cluster.local takes it too", url: "http://reviews.default.svc.cluster.local/r", expect: { status: 200, routedTo: "mesh-reviews" } },
  { name: "mesh: hostnames on a mesh route narrow nothing", url: "http://narrows-nothing.example/r", expect: { status: 404, errorCode: "no_route" } },
  { name: "mesh: a Service with routes refuses what none matches (no ingress catch-all)", url: "http://reviews.default/shop/x", expect: { status: 404, errorCode: "no_route" } },
  { name: "mesh: a Service no route claims goes to its Backend unchanged", url: "http://echo/shop/x?a=1", expect: { status: 200, upstreamUrl: "/shop/x?a=1", upstreamHeaders: { "x-routed-to": null } } },
  { name: "mesh: a parentRef port claims that port", url: "http://details:9080/d", expect: { status: 200, routedTo: "details-9080" } },
  { name: "mesh: other ports of that Service take the default route", url: "http://details/d", expect: { status: 200, upstreamUrl: "/d", upstreamHeaders: { "x-routed-to": null } } },
  { name: "mesh: a consumer route of the gateway's namespace wins over the producer route", url: "http://ratings.shop/x", expect: { status: 200, routedTo: "ratings-consumer" } },
  { name: "mesh: a redirect keeps the port the caller addressed", url: "http://reviews:8080/moved?x=1", expect: { status: 302, responseHeaders: { location: "http://reviews:8080/new-place?x=1" } } },
  { name: "mesh: a redirect of a portless authority adds no port", url: "http://reviews/moved", expect: { status: 302, responseHeaders: { location: "http://reviews/new-place" } } },
  { name: "mesh: an authority only resembling a Service is ingress traffic", url: "http://reviews.default.svc.example.com/shop/x", expect: { status: 200, routedTo: "shop-prefix" } },
];

/** Checks one response against a case; returns the problems (empty = pass). */
export async function checkCase(c: RoutingCase, res: Response): Promise<string[]> {
  const problems: string[] = [];
  const text = await res.text();
  if (res.status !== c.expect.status) problems.push(`status ${res.status}, want ${c.expect.status} (${text.slice(0, 200)})`);
  if (!res.headers.get("x-meshgate-config-version")) problems.push("missing x-meshgate-config-version");
  if (c.expect.errorCode !== undefined) {
    const body = JSON.parse(text) as { error?: { code?: string } };
    if (body.error?.code !== c.expect.errorCode) problems.push(`error code ${body.error?.code}, want ${c.expect.errorCode}`);
  }
  for (const [name, want] of Object.entries(c.expect.responseHeaders ?? {})) {
    if (res.headers.get(name) !== want) problems.push(`response header ${name}=${res.headers.get(name)}, want ${want}`);
  }
  if (c.expect.routedTo !== undefined || c.expect.upstreamUrl !== undefined || c.expect.upstreamHeaders !== undefined) {
    const seen = JSON.parse(text) as { url: string; headers: Record<string, string | undefined> };
    if (c.expect.routedTo !== undefined && seen.headers["x-routed-to"] !== c.expect.routedTo) problems.push(`routed to ${seen.headers["x-routed-to"]}, want ${c.expect.routedTo}`);
    if (c.expect.upstreamUrl !== undefined && seen.url !== c.expect.upstreamUrl) problems.push(`upstream saw ${seen.url}, want ${c.expect.upstreamUrl}`);
    for (const [name, want] of Object.entries(c.expect.upstreamHeaders ?? {})) {
      if ((seen.headers[name] ?? null) !== want) problems.push(`upstream header ${name}=${seen.headers[name]}, want ${want}`);
    }
  }
  return problems;
}
