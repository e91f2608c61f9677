import { GatewayError } from "../http/gateway-error.js";
import type { GatewayRequest, GatewayResponse } from "../http/exchange.js";
import type { Random } from "../http/runtime-env.js";
import type { CompiledBackend } from "../upstream/compiled-backend.js";
import { pick } from "../upstream/weighted.js";
import { affinityPoint } from "./affinity.js";
import type { CompiledBackendRef, CompiledRule } from "./compiled-rule.js";
import { persistedRef, sessionHeader } from "./session-persistence.js";

/** The backendRef a request goes to, and what its answer must carry to stay there. */
export interface BackendChoice {
  readonly ref: CompiledBackendRef;
  readonly backend: CompiledBackend;
  /** Adds the session-persistence token to the answer (first answer, or a sliding idle timeout). */
  readonly keep: ((response: GatewayResponse) => void) | null;
}

/**
 * The balance stage: a gateway-issued session token wins, then session affinity's fixed point,
 * then the weighted split. `record.backend` learns the chosen ref before an unresolvable one
 * throws, so the access log names it.
 */
export function chooseBackendRef(rule: CompiledRule, req: GatewayRequest, random: Random, record: { backend: string | null }): BackendChoice {
  const persistence = rule.persistence;
  const nowSeconds = persistence === null ? 0 : Math.floor(Date.now() / 1000);
  const persisted = persistence === null ? null : persistedRef(persistence, req, nowSeconds);
  const point = persisted !== null || rule.affinity === null ? null : affinityPoint(rule.affinity, req);
  const ref = persisted?.ref ?? (rule.backends === null ? null : pick(rule.backends, point === null ? random : () => point));
  if (ref === null) throw new GatewayError("no_backend", `route ${rule.id} has no backend with weight above zero`);
  record.backend = ref.key;
  if (ref.backend === null) throw new GatewayError("backend_not_found", `backend ${ref.key} of route ${rule.id} does not exist`);
  const renew = persistence !== null && (persisted === null || persistence.idleTimeoutSeconds !== null);
  const keep = renew ? (response: GatewayResponse) => response.headers.append(...sessionHeader(persistence, ref, persisted?.issuedAt ?? nowSeconds)) : null;
  return { ref, backend: ref.backend, keep };
}
