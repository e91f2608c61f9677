import type { RouteEntry } from "../routing/compiled-rule.js";

/** The part of an explain input a gRPC target rewrites (explain.ts's ExplainInput has it). */
interface CallInput {
  readonly method: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** `grpc://host[:port]/package.Service/Method` (`grpcs://` over TLS): a gRPC call to explain. */
const GRPC_TARGET = /^grpc(s?):\/\/([^/?#]+)(\/[^/?#]+\/[^/?#]+)$/i;

/**
 * A gRPC call as the request it is on the wire: `POST /package.Service/Method` with a gRPC
 * content type (what a GRPCRoute matches on). Other inputs come back unchanged; a grpc:// URL
 * that names no `/Service/Method` is refused with the form to use.
 */
export function grpcCallInput<T extends CallInput>(input: T): { input: T; grpc: boolean } {
  if (!/^grpcs?:/i.test(input.url)) return { input, grpc: false };
  const m = GRPC_TARGET.exec(input.url);
  if (m === null) throw new Error(`"${input.url}" is not a gRPC method: give grpc://host[:port]/package.Service/Method (grpcs:// for TLS)`);
  if (input.method.toUpperCase() !== "POST" && input.method.toUpperCase() !== "GET") throw new Error(`a gRPC call is always POST, not ${input.method}`);
  const headers: Record<string, string> = { ...input.headers };
  if (!Object.keys(headers).some((k) => k.toLowerCase() === "content-type")) headers["content-type"] = "application/grpc";
  return { input: { ...input, method: "POST", url: `http${m[1]!.toLowerCase()}://${m[2]}${m[3]}`, headers }, grpc: true };
}

/** The gRPC method a GRPCRoute match selects, in the route's terms (`Service/Method`, `Service/*`, or the expression). */
export function grpcMethodOf(e: RouteEntry): string | undefined {
  if (e.grpc === undefined) return undefined;
  if (e.path.type === "Exact") return e.path.value.slice(1);
  if (e.path.type === "PathPrefix") return e.path.value === "/" ? "any method" : `${e.path.value.slice(1)}/*`;
  return `~ ${e.path.value}`;
}
