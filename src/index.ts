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
  /** The client certificate the platform verified (Workers: request.cf.tlsClientAuth). */
  readonly peerCertificate?: (request: Request) => PeerCertificate | null;
}

/**
 * The gateway as a Hono app over Web Requests: what Workers serve and what tests drive
 * with `app.request()`. (Node serves the same pipeline from node:http for speed.)
 *
 * @example
 * const holder = new SnapshotHolder();
 * await holder.load([{ name: "routes.yaml", text }], { location: "inline", files: ["routes.yaml"] });
 * const app = createGateway({ snapshot: () => holder.current() });
 * const res = await app.request("http://example.com/reviews");
 */
export function createGateway(options: CreateGatewayOptions): Hono {
  const pipeline = createPipeline({ ...options, transport: options.transport ?? new FetchTransport() });
  const clientAddress = options.clientAddress ?? (() => "");
  const peerCertificate = options.peerCertificate ?? (() => null);
  const app = new Hono();
  app.all("*", async function gateway(c) {
    const req = fromWebRequest(c.req.raw, { clientAddress: clientAddress(c.req.raw), peerCertificate: peerCertificate(c.req.raw), startTime: performance.now() });
    return toWebResponse(await pipeline(req, c.req.raw.signal));
  });
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
