import * as z from "../policy/zod.js";

export { upstreamProtocol, type UpstreamProtocol } from "./upstream-protocol.js";

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

/** Why `app` contradicts an endpoint of `scheme` ("http:" or "https:"), or null. */
export function appProtocolSchemeIssue(app: AppProtocol | undefined, scheme: string): string | null {
  if ((app === "https" || app === "kubernetes.io/wss") && scheme !== "https:") return `appProtocol ${app} needs https:// endpoints`;
  if (app === "kubernetes.io/ws" && scheme === "https:") return "appProtocol kubernetes.io/ws is WebSocket without TLS: use kubernetes.io/wss for https:// endpoints";
  return null;
}
