import type { GatewayResponse } from "./exchange.js";
import type { GatewayError } from "./gateway-error.js";
import type { HeaderList } from "./header-list.js";
import { HeaderList as Headers } from "./header-list.js";

/** gRPC status codes the gateway answers with (grpc/doc/statuscodes.md). */
export const GRPC_STATUS = { OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;

/** A gRPC call: `content-type: application/grpc`, `application/grpc+proto`, `application/grpc;…` (gRPC-Web is not). */
export function isGrpcRequest(headers: HeaderList): boolean {
  const type = headers.get("content-type");
  if (type === undefined || type.length < 16) return false;
  const lower = type.toLowerCase();
  return lower.startsWith("application/grpc") && (lower.length === 16 || lower[16] === "+" || lower[16] === ";");
}

/**
 * The gateway's own errors as gRPC statuses, by HTTP status as Envoy maps them (grpc/doc/http-grpc-status-mapping.md),
 * except that timeouts are DEADLINE_EXCEEDED. 429 is UNAVAILABLE (14), as Envoy and the gRPC
 * mapping have it: clients retry it with backoff, which is what a rate limit asks for.
 */
export function grpcStatusOf(err: GatewayError): number {
  switch (err.status) {
    case 400:
      return GRPC_STATUS.INTERNAL;
    case 401:
      return GRPC_STATUS.UNAUTHENTICATED;
    case 403:
      return GRPC_STATUS.PERMISSION_DENIED;
    case 404:
      return GRPC_STATUS.UNIMPLEMENTED;
    case 408:
    case 504:
      return GRPC_STATUS.DEADLINE_EXCEEDED;
    case 413:
    case 431:
      return GRPC_STATUS.RESOURCE_EXHAUSTED;
    case 429:
    case 502:
    case 503:
      return GRPC_STATUS.UNAVAILABLE;
    default:
      return GRPC_STATUS.INTERNAL;
  }
}

/** A trailers-only gRPC answer (HTTP 200, grpc-status and grpc-message, no body) for a gateway error. */
export function grpcErrorResponse(err: GatewayError, status = grpcStatusOf(err)): GatewayResponse {
  const headers = new Headers(["content-type", "application/grpc", "grpc-status", String(status), "grpc-message", encodeGrpcMessage(`${err.code}: ${err.message}`), "x-meshgate-error", err.code]);
  for (const [name, value] of err.headers ?? []) headers.append(name, value);
  return { status: 200, headers, body: null };
}

/** grpc-message is percent-encoded UTF-8 (gRPC over HTTP/2, "Responses"). */
export function encodeGrpcMessage(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  return out;
}

const TIMEOUT_UNITS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000001 };

/** The client's `grpc-timeout` (at most 8 digits and a unit) in ms, or null when absent or malformed. */
export function grpcTimeoutMs(headers: HeaderList): number | null {
  const value = headers.get("grpc-timeout");
  if (value === undefined) return null;
  const m = /^([0-9]{1,8})([HMSmun])$/.exec(value);
  if (m === null) return null;
  return Math.max(1, Math.ceil(Number(m[1]) * TIMEOUT_UNITS[m[2]!]!));
}

/** The gRPC status a response carried (trailers-only headers, or trailers once the body completed), or null. */
export function grpcStatusOfResponse(response: GatewayResponse): string | null {
  const inHeaders = response.headers.get("grpc-status");
  if (inHeaders !== undefined) return inHeaders;
  const body = response.body;
  if (body === null || typeof body === "string" || body instanceof Uint8Array) return null;
  return body.trailers?.get("grpc-status") ?? null;
}
