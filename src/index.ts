import { Hono } from "hono";
import { createPipeline, type PipelineOptions } from "./pipeline.js";
import { fromWebRequest, toWebResponse } from "./http/web-exchange.js";
import { FetchTransport } from "./upstream/fetch-transport.js";
import type { PeerCertificate } from "./http/principal.js";

export interface CreateGatewayOptions extends Omit<PipelineOptions, "transport"> {
  /** Default: FetchTransport over the global fetch. */
  readonly transport?: PipelineOptions["transport"];
  /** Client address for a request (a runtime's conninfo). Default: "" (unknown). */
  readonly clientAddress?: (request: Request) => string;
  /** The client certificate the platform verified (Workers: request.cf.tlsClientAuth); read only when a stage asks. */
  readonly peerCertificate?: (request: Request) => PeerCertificate | null;
  /**
   * Whether `request.signal` cancels the request's upstream work when the client goes away
   * (default true). The Worker turns it off: workerd ends a cancelled invocation's subrequests
   * itself, its `request.signal` never fires without the `enable_request_signal` flag, and a
   * listener on it costs ~12 µs per request there.
   */
  readonly followRequestSignal?: boolean;
}

/** The gateway as one function over Web Requests: what `createGateway` routes to and the Worker calls. */
export type GatewayHandler = (request: Request) => Promise<Response>;

/**
 * The gateway as a function from Web Request to Web Response, without Hono around it: the
 * Worker's fetch calls it directly (a Hono context per request costs more in workerd than the
 * routing it would do for a single catch-all route).
 *
 * @example
 * const handle = createGatewayHandler({ snapshot: () => holder.current() });
 * const res = await handle(new Request("http://example.com/reviews"));
 */
export function createGatewayHandler(options: CreateGatewayOptions): GatewayHandler {
  const pipeline = createPipeline({ ...options, transport: options.transport ?? new FetchTransport() });
  const clientAddress = options.clientAddress ?? (() => "");
  const peerCertificateOf = options.peerCertificate;
  const follow = options.followRequestSignal ?? true;
  return async function gateway(request: Request): Promise<Response> {
    const req = fromWebRequest(request, { clientAddress: clientAddress(request), peerCertificateOf, startTime: performance.now() });
    return toWebResponse(await pipeline(req, follow ? request.signal : undefined));
  };
}

/**
 * The gateway as a Hono app over Web Requests: what tests drive with `app.request()` and what
 * mounts under other Hono apps. (Node serves the same pipeline from node:http for speed.)
 *
 * @example
 * const holder = new SnapshotHolder();
 * await holder.load([{ name: "routes.yaml", text }], { location: "inline", files: ["routes.yaml"] });
 * const app = createGateway({ snapshot: () => holder.current() });
 * const res = await app.request("http://example.com/reviews");
 */
export function createGateway(options: CreateGatewayOptions): Hono {
  const handle = createGatewayHandler(options);
  const app = new Hono();
  app.all("*", (c) => handle(c.req.raw));
  return app;
}

export { createPipeline } from "./pipeline.js";
export type { Pipeline, PipelineOptions } from "./pipeline.js";
export type { RequestOutcome } from "./telemetry/request-outcome.js";
export type { GatewayRequest, GatewayResponse, RequestBody, ResponseBody } from "./http/exchange.js";
export { HeaderList } from "./http/header-list.js";
export { GatewayError, type GatewayErrorCode } from "./http/gateway-error.js";
export { SnapshotHolder } from "./config/snapshot-holder.js";
export { compileSnapshot } from "./snapshot/compile-snapshot.js";
export { parseSources, type PolicySource } from "./policy/parse.js";
export { PolicyError, formatPolicyIssue, type PolicyIssue } from "./policy/issues.js";
export type { Snapshot } from "./snapshot/snapshot.js";
export { FetchTransport } from "./upstream/fetch-transport.js";
export type { Transport, UpstreamRequest, UpstreamResponse } from "./upstream/transport.js";
export { adminApp } from "./admin/admin-app.js";
export type { Principal, PeerCertificate, CertificateIdentity } from "./http/principal.js";
export { JwksRegistry, type JwksFetcher } from "./identity/jwks-registry.js";
export type { ApiKeyStore, ApiKeyEntry } from "./identity/api-keys.js";
export { securityPolicy, jwtIdentity, rateLimit, type MeshgateVariables, type MiddlewareOptions } from "./middleware.js";
