// Apart from the appProtocol schema (app-protocol.ts): the compile on the serving thread maps
// appProtocol values without loading zod.

/**
 * What the gateway speaks to an upstream, decided once per backendRef at compile time:
 * HTTP/1.1; HTTP/2 (prior knowledge on http://, ALPN h2 on https://); or WebSocket
 * (an HTTP/1.1 upgrade, TLS when the endpoint is https://).
 */
export type UpstreamProtocol = "http1" | "h2" | "websocket";

/**
 * The one mapping from an appProtocol value (a Backend's, or a v1 Service port's, which
 * Kubernetes lets be anything) to what the transport speaks; unknown values are HTTP/1.1.
 */
export function upstreamProtocol(app: string | null | undefined): UpstreamProtocol {
  switch (app) {
    case "kubernetes.io/h2c":
    case "grpc":
      return "h2";
    case "kubernetes.io/ws":
    case "kubernetes.io/wss":
      return "websocket";
    default:
      return "http1";
  }
}
