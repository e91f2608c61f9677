import { HeaderList } from "./header-list.js";

/** Stable error codes; clients and tests branch on these, never on message text. */
export const ERROR_STATUS = {
  bad_request: 400,
  request_not_forwardable: 400,
  multiple_credentials: 400,
  unauthenticated: 401,
  jwt_missing: 401,
  jwt_malformed: 401,
  jwt_too_large: 401,
  jwt_alg_not_allowed: 401,
  jwt_unknown_kid: 401,
  jwt_expired: 401,
  jwt_not_yet_valid: 401,
  jwt_bad_issuer: 401,
  jwt_bad_audience: 401,
  jwt_bad_signature: 401,
  jwt_invalid: 401,
  jwt_exp_missing: 401,
  api_key_missing: 401,
  api_key_invalid: 401,
  api_key_expired: 401,
  client_certificate_required: 401,
  client_certificate_invalid: 401,
  forbidden: 403,
  jwt_claim_mismatch: 403,
  access_denied: 403,
  no_route: 404,
  client_timeout: 408,
  payload_too_large: 413,
  rate_limited: 429,
  headers_too_large: 431,
  backend_not_found: 500,
  no_backend: 500,
  internal: 500,
  upstream_reset: 502,
  upstream_bad_response: 502,
  upstream_unavailable: 503,
  overloaded: 503,
  backend_overloaded: 503,
  no_config: 503,
  jwks_unavailable: 503,
  rate_limit_unavailable: 503,
  key_store_unavailable: 503,
  upstream_timeout: 504,
  request_timeout: 504,
} as const;

export type GatewayErrorCode = keyof typeof ERROR_STATUS;

/** The one error type the gateway answers with; mapped to status and JSON body in `errorBody`. */
export class GatewayError extends Error {
  readonly status: number;
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly headers?: readonly (readonly [string, string])[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "GatewayError";
    this.status = ERROR_STATUS[code];
  }
}

/**
 * Was this failure caused by the request or the gateway itself rather than by an upstream? A
 * GatewayError with a 4xx status always is: a request the transport refused to build (a header
 * value it cannot send, a body over the limit) or a client that went away. Outlier detection,
 * breakers and retry budgets branch on this, never on message text, so such errors never eject
 * a healthy endpoint.
 */
export function isLocalFault(err: unknown): err is GatewayError {
  return err instanceof GatewayError && err.status < 500;
}

/** A request body over its limit (413): raised before forwarding or by a capped body stream. */
export function bodyTooLarge(limit: number): GatewayError {
  return new GatewayError("payload_too_large", `request body exceeds ${limit} bytes`);
}

/** Anything thrown that is not a GatewayError becomes `internal`, without leaking its details. */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError("internal", "internal gateway error", undefined, { cause: err });
}

/** JSON body of the error contract: `{ "error": { "code", "message" } }`. */
export function errorBody(err: GatewayError): string {
  return JSON.stringify({ error: { code: err.code, message: err.message } });
}

export function errorHeaders(err: GatewayError): HeaderList {
  const headers = new HeaderList(["content-type", "application/json"]);
  if (err.headers) for (const [name, value] of err.headers) headers.append(name, value);
  return headers;
}
