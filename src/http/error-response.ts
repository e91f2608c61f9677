import type { GatewayResponse } from "./exchange.js";
import { errorBody, errorHeaders, type GatewayError } from "./gateway-error.js";

/** The gateway's own answer for an error: status, JSON body, the error's headers. */
export function errorResponse(err: GatewayError): GatewayResponse {
  return { status: err.status, headers: errorHeaders(err), body: errorBody(err) };
}
