/**
 * The Gateway API retry conformance tests (HTTPRouteRetry, HTTPRouteRetryConnectionError,
 * HTTPRouteRetryWithTimeouts) as one table, run on Node (test/node/retry-conformance.test.ts)
 * and inside workerd (test/workers/retry-conformance.test.ts) against the retry simulation
 * upstream (test/support/retry-simulation.ts). Routes are the suite's manifests verbatim, with
 * infra-backend-v3 as a Backend.
 */

export interface RetryCase {
  readonly name: string;
  readonly path: string;
  readonly query: Record<string, string>;
  /** Any of these statuses passes (the suite accepts 500 or 503 for exhausted connection errors). */
  readonly status: readonly number[];
  /** Requests the backend must have seen for this one client request. */
  readonly attempts: number;
  /** Error code of a gateway-made answer. */
  readonly errorCode?: string;
}

export function retryPolicies(upstreamOrigin: string): { name: string; text: string }[] {
  return [
    {
      name: "backend.yaml",
      text: `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: infra-backend-v3, namespace: gateway-conformance-infra }
spec: { endpoints: [{ url: "${upstreamOrigin}" }] }
`,
    },
    {
      name: "httproute-retry.yaml",
      text: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: retries
  namespace: gateway-conformance-infra
spec:
  parentRefs:
    - name: same-namespace
  rules:
    - matches:
        - path:
            type: PathPrefix
            value: /retry/code-500-attempts-3
      retry:
        codes:
          - 500
        attempts: 3
      backendRefs:
        - name: infra-backend-v3
          port: 8080
    - matches:
        - path:
            type: PathPrefix
            value: /retry/code-all-attempts-2
      retry:
        codes:
          - 500
          - 502
          - 503
          - 504
        attempts: 2
      backendRefs:
        - name: infra-backend-v3
          port: 8080
`,
    },
    {
      name: "httproute-retry-connection-error.yaml",
      text: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: retries-connection-error
  namespace: gateway-conformance-infra
spec:
  parentRefs:
    - name: same-namespace
  rules:
    - matches:
        - path:
            type: PathPrefix
            value: /retry/no-status-code-attempts-3
      retry:
        attempts: 3
      backendRefs:
        - name: infra-backend-v3
          port: 8080
`,
    },
    {
      name: "httproute-retry-with-timeouts.yaml",
      text: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: retries-with-timeouts
  namespace: gateway-conformance-infra
spec:
  parentRefs:
    - name: same-namespace
  rules:
    - matches:
        - path:
            type: PathPrefix
            value: /retry/backend-request-timeout-200ms
      retry:
        attempts: 2
      timeouts:
        backendRequest: 200ms
      backendRefs:
        - name: infra-backend-v3
          port: 8080
    - matches:
        - path:
            type: PathPrefix
            value: /retry/request-timeout-200ms
      retry:
        codes:
          - 500
        attempts: 5
      timeouts:
        backendRequest: 200ms
        request: 400ms
      backendRefs:
        - name: infra-backend-v3
          port: 8080
`,
    },
  ];
}

const c = (name: string, path: string, query: Record<string, string>, status: number | number[], attempts: number, errorCode?: string): RetryCase => ({
  name,
  path,
  query,
  status: typeof status === "number" ? [status] : status,
  attempts,
  ...(errorCode !== undefined ? { errorCode } : {}),
});

export const RETRY_CASES: readonly RetryCase[] = [
  // HTTPRouteRetry
  c("code 500, attempts 3: succeeds after 2 retries", "/retry/code-500-attempts-3", { responseCode: "500", succeedAfter: "2" }, 200, 3),
  c("code 500, attempts 3: 500 when 4 tries all fail", "/retry/code-500-attempts-3", { responseCode: "500", succeedAfter: "4" }, 500, 4),
  c("code 500 only: a 503 is not retried", "/retry/code-500-attempts-3", { responseCode: "503", succeedAfter: "2" }, 503, 1),
  ...[500, 502, 503, 504].flatMap((code) => [
    c(`all codes, attempts 2: succeeds after 1 retry on ${code}`, "/retry/code-all-attempts-2", { responseCode: String(code), succeedAfter: "1" }, 200, 2),
    c(`all codes, attempts 2: the upstream's ${code} when 3 tries fail`, "/retry/code-all-attempts-2", { responseCode: String(code), succeedAfter: "3" }, code, 3),
  ]),
  // HTTPRouteRetryConnectionError: the backend resets the connection after reading the request.
  c("connection reset, attempts 3: succeeds after 2 retries", "/retry/no-status-code-attempts-3", { succeedAfter: "2" }, 200, 3),
  c("connection reset, attempts 3: 503 when 4 tries are reset", "/retry/no-status-code-attempts-3", { succeedAfter: "4" }, [500, 503], 4, "upstream_unavailable"),
  // HTTPRouteRetryWithTimeouts
  c("backendRequest 200ms, attempts 2: succeeds after 2 timed-out tries", "/retry/backend-request-timeout-200ms", { responseCode: "500", succeedAfter: "2", delayRetry: "300ms" }, 200, 3),
  c("backendRequest 200ms, attempts 2: 504 when 3 tries time out", "/retry/backend-request-timeout-200ms", { responseCode: "500", succeedAfter: "3", delayRetry: "300ms" }, 504, 3, "upstream_timeout"),
  c("request 400ms: succeeds when the retry fits", "/retry/request-timeout-200ms", { responseCode: "500", succeedAfter: "1" }, 200, 2),
  c("request 400ms: 504 when retries would exceed it", "/retry/request-timeout-200ms", { responseCode: "500", succeedAfter: "4", delayRetry: "100ms" }, 504, -1, "request_timeout"),
];

/** Runs one case through `send` (a client request to the gateway); returns what did not match. */
export async function runRetryCase(rc: RetryCase, gatewayOrigin: string, upstreamOrigin: string, send: (url: string) => Promise<Response>): Promise<string[]> {
  const uuid = crypto.randomUUID();
  const query = new URLSearchParams({ ...rc.query, uuid }).toString();
  const res = await send(`${gatewayOrigin}${rc.path}?${query}`);
  const problems: string[] = [];
  if (!rc.status.includes(res.status)) problems.push(`status ${res.status}, want ${rc.status.join(" or ")}`);
  const body = await res.text();
  if (rc.errorCode !== undefined) {
    let code: string | undefined;
    try {
      code = (JSON.parse(body) as { error?: { code?: string } }).error?.code;
    } catch {
      code = undefined;
    }
    if (code !== rc.errorCode) problems.push(`error code ${code}, want ${rc.errorCode} (body ${body})`);
  }
  const seen = Number(await (await fetch(`${upstreamOrigin}/attempts?uuid=${uuid}`)).text());
  // -1: bounded by the request timeout rather than by attempts; at least a retry, never all six.
  if (rc.attempts === -1 ? seen < 2 || seen > 5 : seen !== rc.attempts) problems.push(`backend saw ${seen} attempts, want ${rc.attempts === -1 ? "2-5" : rc.attempts}`);
  return problems;
}
