import type { Snapshot } from "../snapshot/snapshot.js";
import type { ForwardStats } from "../upstream/forward-stats.js";
import type { GatewayRequest, GatewayResponse } from "../http/exchange.js";
import type { RequestIds } from "../hygiene/hygiene.js";
import type { GatewayError } from "../http/gateway-error.js";
import type { SecurityResult } from "../identity/security-stage.js";
import type { RateLimitResult } from "../ratelimit/rate-limit-stage.js";
import type { MeshRef } from "../routing/mesh.js";

export interface RequestOutcome {
  readonly request: GatewayRequest;
  readonly requestId: string;
  readonly ids: RequestIds | null;
  readonly response: GatewayResponse;
  /** Envoy-style response flag ("-" when none). */
  readonly flags: string;
  /** Clock reading when the response (body included, where the runtime can tell) was done. */
  readonly endTime: number;
  /** Response body bytes, where known. */
  readonly responseBytes: number | null;
  readonly snapshot: Snapshot;
  readonly routeId: string | null;
  readonly backend: string | null;
  /** East-west: the Service the authority named, and whether a producer, consumer or default route served it. */
  readonly mesh: MeshRef | null;
  readonly error: GatewayError | null;
  readonly forward: ForwardStats;
  /** Who called and what authorization decided, when a SecurityPolicy applied. */
  readonly security: SecurityResult | null;
  /** Which rate-limit rule applied and what it decided. */
  readonly rateLimit: RateLimitResult | null;
}
