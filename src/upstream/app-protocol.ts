import * as z from "../policy/zod.js";

/**
 * What the gateway speaks to an upstream, decided once per backendRef at compile time:
 * HTTP/1.1; HTTP/2 (prior knowledge on http://, ALPN h2 on https://); or WebSocket
 * (an HTTP/1.1 upgrade, TLS when the endpoint is https://).
 */
export type UpstreamProtocol = "http1" | "h2" | "websocket";

/**
 * Kubernetes Service `appProtocol` values a Backend (or one of its `ports`) may carry. TLS always
 * follows the endpoint URL's scheme; the value names the application protocol:
 * - absent, `http`, `https`: HTTP/1.1 (`https` insists on https:// endpoints)
 * - `kubernetes.io/h2c`, `grpc`: HTTP/2 (`grpc` is Istio's spelling; on https:// both negotiate h2 by ALPN)
 * - `kubernetes.io/ws`: WebSocket over http://; `kubernetes.io/wss`: WebSocket over https://
 */
export const APP_PROTOCOLS = ["http", "https", "kubernetes.io/h2c", "grpc", "kubernetes.io/ws", "kubernetes.io/wss"] as const;
export type AppProtocol = (typeof APP_PROTOCOLS)[number];

export const appProtocolSchema = z.enum(APP_PROTOCOLS, {
  error: (issue) => {
    const value = String(issue.input);
    const hint = value === "h2c" || value === "http2" || value === "h2" ? " (did you mean kubernetes.io/h2c?)" : value === "ws" || value === "wss" ? ` (did you mean kubernetes.io/${value}?)` : "";
    return `unsupported appProtocol ${JSON.stringify(issue.input)}${hint}; use one of ${APP_PROTOCOLS.join(", ")}, or leave it out for HTTP/1.1`;
  },
});

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

/** Why `app` contradicts an endpoint of `scheme` ("http:" or "https:"), or null. */
export function appProtocolSchemeIssue(app: AppProtocol | undefined, scheme: string): string | null {
  if ((app === "https" || app === "kubernetes.io/wss") && scheme !== "https:") return `appProtocol ${app} needs https:// endpoints`;
  if (app === "kubernetes.io/ws" && scheme === "https:") return "appProtocol kubernetes.io/ws is WebSocket without TLS: use kubernetes.io/wss for https:// endpoints";
  return null;
}
