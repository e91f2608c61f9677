import * as z from "zod";
import { durationAtMost } from "../policy/duration.js";
import { metadataSchema } from "../policy/meta.js";
import { strictObject } from "../policy/strict-object.js";
import { portSchema } from "../policy/common.js";
import { appProtocolSchema, appProtocolSchemeIssue } from "./app-protocol.js";

const endpointSchema = strictObject({
  url: z.string().superRefine((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return ctx.addIssue({ code: "custom", message: `must be an absolute URL such as http://10.0.0.5:8080 (got "${text}")` });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") ctx.addIssue({ code: "custom", message: `scheme must be http or https (got "${url.protocol.slice(0, -1)}")` });
    if ((url.pathname !== "/" && url.pathname !== "") || url.search !== "" || url.hash !== "") ctx.addIssue({ code: "custom", message: "must be an origin only (scheme, host, port): no path, query or fragment" });
    if (url.username !== "" || url.password !== "") ctx.addIssue({ code: "custom", message: "must not carry credentials" });
  }).optional(),
  /** Workers: the name of a service binding the endpoint is called through (`env.NAME.fetch(request)`), instead of `url`. */
  binding: z.string().max(256).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "must be a Workers binding name (letters, digits, _)" }).optional(),
  weight: z.number().int().min(0).max(1_000_000).default(1),
  zone: z.string().optional(),
  cluster: z.string().optional(),
  priority: z.number().int().min(0).max(16).default(0),
}).superRefine((e, ctx) => {
  if ((e.url === undefined) === (e.binding === undefined)) ctx.addIssue({ code: "custom", path: e.url === undefined ? ["url"] : ["binding"], message: "an endpoint needs exactly one of url (an address) or binding (a Workers service binding)" });
});

/** TLS to the upstream (https endpoints): its CA, the name to verify, and a client certificate for mTLS. */
const tlsSchema = strictObject({
    /** PEM CA bundle (inline) or a file path (Node); default: the system roots. */
    ca: z.string().optional(),
    caFile: z.string().optional(),
    /** Name to verify the upstream certificate against (and SNI). Default: the endpoint host. */
    serverName: z.string().optional(),
    insecureSkipVerify: z.boolean().default(false),
    /** Node: PEM inline or files. Workers: the name of an `mtls_certificates` binding. */
    clientCertificate: z.union([strictObject({ certFile: z.string(), keyFile: z.string() }), strictObject({ cert: z.string(), key: z.string() }), strictObject({ binding: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "must be a Workers binding name" }) })]).optional(),
  })
  .refine((t) => t.ca === undefined || t.caFile === undefined, { message: "give ca or caFile, not both", path: ["caFile"] });

/**
 * One port of a multi-port Service (Kubernetes ServicePort): a backendRef's `port` picks it, and
 * with it the port the endpoints are reached on and the protocol spoken there.
 */
const servicePortSchema = strictObject({
  name: z.string().min(1).max(63).optional(),
  port: portSchema,
  /** Port on the endpoints; default: `port`. Only numbers: a named targetPort needs the Pod spec. */
  targetPort: portSchema.optional(),
  /** Default: the Backend's `spec.appProtocol`. */
  appProtocol: appProtocolSchema.optional(),
  /** Kubernetes ServicePort fields accepted so Service ports paste as they are; only TCP is carried. */
  protocol: z.literal("TCP").default("TCP"),
});

/**
 * How a backend is reached and protected: TLS, connection limits, timeouts, circuit breaker,
 * outlier detection, health checks, load balancing. A Backend writes them for itself; a
 * BackendTrafficPolicy writes them for a Service (backend-traffic-policy.ts).
 */
export const BACKEND_SETTINGS = {
  tls: tlsSchema.optional(),
  /** Connections to each endpoint (applied by the transport; HTTP/2 transports count streams). */
  connection: strictObject({
    /** Per endpoint; beyond it requests wait for a connection, up to the pending limit, then 503 backend_overloaded. */
    maxConnections: z.number().int().min(1).max(100_000).optional(),
    /** Requests waiting for a connection per endpoint. Default: circuitBreaker.maxPendingRequests when set, else 1024. */
    maxPendingRequests: z.number().int().min(0).max(1_000_000).optional(),
    maxRequestsPerConnection: z.number().int().min(1).max(1_000_000).optional(),
    connectTimeout: durationAtMost(300_000).optional(),
    /** An unused pooled connection is closed after this long. */
    idleTimeout: durationAtMost(3_600_000).optional(),
    /** Older name of idleTimeout. */
    keepAliveTimeout: durationAtMost(3_600_000).optional(),
  })
    .refine((c) => c.idleTimeout === undefined || c.keepAliveTimeout === undefined, { message: "give idleTimeout or its older name keepAliveTimeout, not both", path: ["keepAliveTimeout"] })
    .optional(),
  /** Per-attempt upstream timeouts; "0s" turns one off. */
  timeouts: strictObject({
    /** From sending the request until the response headers arrive. */
    responseHeaders: durationAtMost(3_600_000).optional(),
    /** Longest silence between two pieces of the response body. */
    streamIdle: durationAtMost(3_600_000).optional(),
  }).optional(),
  /** Concurrent requests to the whole Backend; over the limit requests queue (maxPendingRequests) or get 503. */
  circuitBreaker: strictObject({ maxRequests: z.number().int().min(1).max(1_000_000).default(1024), maxPendingRequests: z.number().int().min(0).max(1_000_000).default(0) }).optional(),
  outlierDetection: strictObject({
      consecutive5xx: z.number().int().min(1).max(10_000).default(5),
      consecutiveGatewayErrors: z.number().int().min(1).max(10_000).default(3),
      baseEjectionTime: durationAtMost(86_400_000).default(30_000),
      maxEjectionTime: durationAtMost(86_400_000).default(300_000),
      maxEjectionPercent: z.number().int().min(0).max(100).default(50),
    })
    .optional(),
  healthCheck: strictObject({ path: z.string().startsWith("/").default("/healthz"), interval: durationAtMost(3_600_000).default(5_000), timeout: durationAtMost(60_000).default(1_000), healthyThreshold: z.number().int().min(1).max(100).default(2), unhealthyThreshold: z.number().int().min(1).max(100).default(3) })
    .optional(),
  /** How an endpoint is chosen: weighted random (default), or a hash of a header or cookie (the same value, the same endpoint while it is healthy). */
  loadBalancer: strictObject({
      type: z.enum(["Random", "ConsistentHash"]).default("Random"),
      consistentHash: strictObject({ header: z.string().min(1).max(256).regex(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/, { message: "must be a valid HTTP header name" }).transform((h) => h.toLowerCase()).optional(), cookie: z.string().min(1).max(256).optional() })
        .refine((c) => (c.header === undefined) !== (c.cookie === undefined), { message: "consistentHash needs exactly one of header or cookie" })
        .optional(),
    })
    .refine((l) => (l.type === "ConsistentHash") === (l.consistentHash !== undefined), { message: "type ConsistentHash takes consistentHash (and only it does)", path: ["consistentHash"] })
    .optional(),
};

export const backendSchema = strictObject({
  apiVersion: z.literal("meshgate.dev/v1alpha1"),
  kind: z.literal("Backend"),
  metadata: metadataSchema,
  spec: strictObject({
    endpoints: z.array(endpointSchema).min(1, { message: "a Backend needs at least one endpoint" }).max(1024),
    /** Kubernetes Service appProtocol: what the endpoints speak (absent: HTTP/1.1). See app-protocol.ts. */
    appProtocol: appProtocolSchema.optional(),
    /** Per-port protocol and target port, for backendRefs that name a `port`. */
    ports: z.array(servicePortSchema).max(64).optional(),
    ...BACKEND_SETTINGS,
  }).superRefine((spec, ctx) => {
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
  }),
});

export type Backend = z.output<typeof backendSchema>;
export type BackendEndpoint = Backend["spec"]["endpoints"][number];
