import type { GatewayErrorCode } from "../http/gateway-error.js";

/** Envoy-style response flags, so Envoy/Istio users read access logs and metrics as they are used to. */
const FLAGS: Partial<Record<GatewayErrorCode | "fault_injected", string>> = {
  no_route: "NR",
  backend_not_found: "NC",
  no_backend: "NC",
  upstream_unavailable: "UF",
  upstream_reset: "UR",
  upstream_bad_response: "UPE",
  upstream_timeout: "UT",
  request_timeout: "UT",
  backend_overloaded: "UO",
  bad_request: "DPE",
  headers_too_large: "DPE",
  request_not_forwardable: "DPE",
  fault_injected: "FI",
  rate_limited: "RL",
  rate_limit_unavailable: "RLSE",
};

/** Authentication and authorization refusals all read as Envoy's "unauthorized" flag. */
const UNAUTHORIZED = /^(jwt_|api_key_|client_certificate_|access_denied|unauthenticated|forbidden)/;

export function responseFlags(code: string | null): string {
  if (code === null) return "-";
  if (UNAUTHORIZED.test(code)) return "UAEX";
  return FLAGS[code as GatewayErrorCode] ?? "-";
}
