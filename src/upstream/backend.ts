import * as z from "../policy/zod.js";
import { durationAtMost } from "../policy/duration.js";
import { metadataSchema } from "../policy/meta.js";
import { strictObject } from "../policy/strict-object.js";
import { portSchema } from "../policy/common.js";
import { appProtocolSchema, appProtocolSchemeIssue } from "./app-protocol.js";

const endpointSchema = strictObject({
  url: z.optional(z.string().check(z.superRefine((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return ctx.addIssue({ code: "custom", message: `must be an absolute URL such as http://10.0.0.5:8080 (got "${text}")` });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") ctx.addIssue({ code: "custom", message: `scheme must be http or https (got "${url.protocol.slice(0, -1)}")` });
    if ((url.pathname !== "/" && url.pathname !== "") || url.search !== "" || url.hash !== "") ctx.addIssue({ code: "custom", message: "must be an origin only (scheme, host, port): no path, query or fragment" });
    if (url.username !== "" || url.password !== "") ctx.addIssue({ code: "custom", message: "must not carry credentials" });
  }))),
  /** Workers: the name of a service binding the endpoint is called through (`env.NAME.fetch(request)`), instead of `url`. */
  binding: z.optional(z.string().check(z.maxLength(256), z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "must be a Workers binding name (letters, digits, _)" }))),
  weight: z._default(z.number().check(z.int(), z.gte(0), z.lte(1_000_000)), 1),
  zone: z.optional(z.string()),
  cluster: z.optional(z.string()),
  priority: z._default(z.number().check(z.int(), z.gte(0), z.lte(16)), 0),
}).check(z.superRefine((e, ctx) => {
  if ((e.url === undefined) === (e.binding === undefined)) ctx.addIssue({ code: "custom", path: e.url === undefined ? ["url"] : ["binding"], message: "an endpoint needs exactly one of url (an address) or binding (a Workers service binding)" });
}));

/** TLS to the upstream (https endpoints): its CA, the name to verify, and a client certificate for mTLS. */
const tlsSchema = strictObject({
    /** PEM CA bundle (inline) or a file path (Node); default: the system roots. */
    ca: z.optional(z.string()),
    caFile: z.optional(z.string()),
    /** Name to verify the upstream certificate against (and SNI). Default: the endpoint host. */
    serverName: z.optional(z.string()),
    insecureSkipVerify: z._default(z.boolean(), false),
    /** Node: PEM inline or files. Workers: the name of an `mtls_certificates` binding. */
    clientCertificate: z.optional(z.union([strictObject({ certFile: z.string(), keyFile: z.string() }), strictObject({ cert: z.string(), key: z.string() }), strictObject({ binding: z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "must be a Workers binding name" })) })])),
  }).check(z.refine((t) => t.ca === undefined || t.caFile === undefined, { message: "give ca or caFile, not both", path: ["caFile"] }));

/**
 * One port of a multi-port Service (Kubernetes ServicePort): a backendRef's `port` picks it, and
 * with it the port the endpoints are reached on and the protocol spoken there.
 */
const servicePortSchema = strictObject({
  name: z.optional(z.string().check(z.minLength(1), z.maxLength(63))),
  port: portSchema,
  /** Port on the endpoints; default: `port`. Only numbers: a named targetPort needs the Pod spec. */
  targetPort: z.optional(portSchema),
  /** Default: the Backend's `spec.appProtocol`. */
  appProtocol: z.optional(appProtocolSchema),
  /** Kubernetes ServicePort fields accepted so Service ports paste as they are; only TCP is carried. */
  protocol: z._default(z.literal("TCP"), "TCP"),
});

/**
 * How a backend is reached and protected: TLS, connection limits, timeouts, circuit breaker,
 * outlier detection, health checks, load balancing. A Backend writes them for itself; a
 * BackendTrafficPolicy writes them for a Service (backend-traffic-policy.ts).
 */
export const BACKEND_SETTINGS = {
  tls: z.optional(tlsSchema),
  /** Connections to each endpoint (applied by the transport; HTTP/2 transports count streams). */
  connection: z.optional(strictObject({
    /** Per endpoint; beyond it requests wait for a connection, up to the pending limit, then 503 backend_overloaded. */
    maxConnections: z.optional(z.number().check(z.int(), z.gte(1), z.lte(100_000))),
    /** Requests waiting for a connection per endpoint. Default: circuitBreaker.maxPendingRequests when set, else 1024. */
    maxPendingRequests: z.optional(z.number().check(z.int(), z.gte(0), z.lte(1_000_000))),
    maxRequestsPerConnection: z.optional(z.number().check(z.int(), z.gte(1), z.lte(1_000_000))),
    connectTimeout: z.optional(durationAtMost(300_000)),
    /** An unused pooled connection is closed after this long. */
    idleTimeout: z.optional(durationAtMost(3_600_000)),
    /** Older name of idleTimeout. */
    keepAliveTimeout: z.optional(durationAtMost(3_600_000)),
  }).check(z.refine((c) => c.idleTimeout === undefined || c.keepAliveTimeout === undefined, { message: "give idleTimeout or its older name keepAliveTimeout, not both", path: ["keepAliveTimeout"] }))),
  /** Per-attempt upstream timeouts; "0s" turns one off. */
  timeouts: z.optional(strictObject({
    /** From sending the request until the response headers arrive. */
    responseHeaders: z.optional(durationAtMost(3_600_000)),
    /** Longest silence between two pieces of the response body. */
    streamIdle: z.optional(durationAtMost(3_600_000)),
  })),
  /** Concurrent requests to the whole Backend; over the limit requests queue (maxPendingRequests) or get 503. */
  circuitBreaker: z.optional(strictObject({ maxRequests: z._default(z.number().check(z.int(), z.gte(1), z.lte(1_000_000)), 1024), maxPendingRequests: z._default(z.number().check(z.int(), z.gte(0), z.lte(1_000_000)), 0) })),
  outlierDetection: z.optional(strictObject({
      consecutive5xx: z._default(z.number().check(z.int(), z.gte(1), z.lte(10_000)), 5),
      consecutiveGatewayErrors: z._default(z.number().check(z.int(), z.gte(1), z.lte(10_000)), 3),
      baseEjectionTime: z._default(durationAtMost(86_400_000), 30_000),
      maxEjectionTime: z._default(durationAtMost(86_400_000), 300_000),
      maxEjectionPercent: z._default(z.number().check(z.int(), z.gte(0), z.lte(100)), 50),
    })),
  healthCheck: z.optional(strictObject({ path: z._default(z.string().check(z.startsWith("/")), "/healthz"), interval: z._default(durationAtMost(3_600_000), 5_000), timeout: z._default(durationAtMost(60_000), 1_000), healthyThreshold: z._default(z.number().check(z.int(), z.gte(1), z.lte(100)), 2), unhealthyThreshold: z._default(z.number().check(z.int(), z.gte(1), z.lte(100)), 3) })),
  /** How an endpoint is chosen: weighted random (default), or a hash of a header or cookie (the same value, the same endpoint while it is healthy). */
  loadBalancer: z.optional(strictObject({
      type: z._default(z.enum(["Random", "ConsistentHash"]), "Random"),
      consistentHash: z.optional(strictObject({ header: z.optional(z.pipe(z.string().check(z.minLength(1), z.maxLength(256), z.regex(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/, { message: "must be a valid HTTP header name" })), z.transform((h) => h.toLowerCase()))), cookie: z.optional(z.string().check(z.minLength(1), z.maxLength(256))) }).check(z.refine((c) => (c.header === undefined) !== (c.cookie === undefined), { message: "consistentHash needs exactly one of header or cookie" }))),
    }).check(z.refine((l) => (l.type === "ConsistentHash") === (l.consistentHash !== undefined), { message: "type ConsistentHash takes consistentHash (and only it does)", path: ["consistentHash"] }))),
};

export const backendSchema = strictObject({
  apiVersion: z.literal("meshgate.dev/v1alpha1"),
  kind: z.literal("Backend"),
  metadata: metadataSchema,
  spec: strictObject({
    endpoints: z.array(endpointSchema).check(z.minLength(1, { message: "a Backend needs at least one endpoint" }), z.maxLength(1024)),
    /** Kubernetes Service appProtocol: what the endpoints speak (absent: HTTP/1.1). See app-protocol.ts. */
    appProtocol: z.optional(appProtocolSchema),
    /** Per-port protocol and target port, for backendRefs that name a `port`. */
    ports: z.optional(z.array(servicePortSchema).check(z.maxLength(64))),
    ...BACKEND_SETTINGS,
  }).check(z.superRefine((spec, ctx) => {
    spec.endpoints.forEach((e, i) => {
      const scheme = e.url !== undefined && URL.canParse(e.url) ? new URL(e.url).protocol : null;
      if (scheme === null) return;
      const top = appProtocolSchemeIssue(spec.appProtocol, scheme);
      if (top) ctx.addIssue({ code: "custom", path: ["endpoints", i, "url"], message: top });
    });
    spec.ports?.forEach((p, j) => {
      for (const e of spec.endpoints) {
        const issue = p.appProtocol === undefined || e.url === undefined || !URL.canParse(e.url) ? null : appProtocolSchemeIssue(p.appProtocol, new URL(e.url).protocol);
        if (issue) return ctx.addIssue({ code: "custom", path: ["ports", j, "appProtocol"], message: `${issue} (endpoint ${e.url})` });
      }
    });
    const seen = new Map<number, number>();
    spec.ports?.forEach((p, j) => {
      const first = seen.get(p.port);
      if (first !== undefined) ctx.addIssue({ code: "custom", path: ["ports", j, "port"], message: `port ${p.port} is listed twice (also ports[${first}])` });
      else seen.set(p.port, j);
    });
  })),
});

export type Backend = z.output<typeof backendSchema>;
export type BackendEndpoint = Backend["spec"]["endpoints"][number];
