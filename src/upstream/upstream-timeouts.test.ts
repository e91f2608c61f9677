import { describe, expect, it } from "vitest";
import { compileSnapshot } from "../snapshot/compile-snapshot.js";
import type { CompiledRule } from "../routing/compiled-rule.js";
import { transportTimeouts } from "./attempt.js";

async function compiled(backendSpec: string, ruleExtra = "", traffic = "") {
  const text = `apiVersion: meshgate.dev/v1alpha1
kind: Backend
metadata: { name: b }
spec:
  endpoints: [{ url: "http://10.0.0.1:8080" }]
${backendSpec}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r }
spec:
  rules: [{ backendRefs: [{ name: b }]${ruleExtra} }]
${traffic}`;
  const s = await compileSnapshot([{ name: "p.yaml", text }], { location: "t", files: ["p.yaml"] });
  const backend = s.backends.get("default/b")!;
  return { backend, rule: s.routes.entries[0]!.rule as CompiledRule, timeouts: transportTimeouts(s.routes.entries[0]!.rule as CompiledRule, backend) };
}

describe("upstream timeouts and connection settings", () => {
  it("defaults: connect 5 s, response headers 15 s, stream idle 60 s, idle connections 4 s, no connection limit", async () => {
    const { backend, timeouts } = await compiled("");
    expect(timeouts).toEqual({ headersMs: 15_000, idleMs: 60_000 });
    expect(backend.connection).toMatchObject({ id: "", maxConnections: null, maxPendingRequests: 1024, connectTimeoutMs: 5_000, idleTimeoutMs: 4_000 });
  });

  it("a Backend overrides them; 0s turns one off; keepAliveTimeout is idleTimeout's older name", async () => {
    const { backend, timeouts } = await compiled("  timeouts: { responseHeaders: 2s, streamIdle: 0s }\n  connection: { connectTimeout: 1s, keepAliveTimeout: 30s, maxConnections: 8 }\n  circuitBreaker: { maxPendingRequests: 16 }\n");
    expect(timeouts).toEqual({ headersMs: 2_000, idleMs: 0 });
    expect(backend.connection).toMatchObject({ maxConnections: 8, maxPendingRequests: 16, connectTimeoutMs: 1_000, idleTimeoutMs: 30_000 });
    expect(backend.connection.id).not.toBe("");
  });

  it("a per-try timeout replaces the headers timeout; a route's request: 0s lifts the defaults, not a Backend's own values", async () => {
    expect((await compiled("", ", timeouts: { backendRequest: 3s }")).timeouts.headersMs).toBe(0); // the core's per-try timer does it
    expect((await compiled("", ", timeouts: { request: 0s }")).timeouts).toEqual({ headersMs: 0, idleMs: 0 });
    expect((await compiled("  timeouts: { responseHeaders: 2s }\n", ", timeouts: { request: 0s }")).timeouts).toEqual({ headersMs: 2_000, idleMs: 0 });
  });

  it("refuses idleTimeout together with keepAliveTimeout, and unknown fields", async () => {
    await expect(compiled("  connection: { idleTimeout: 1s, keepAliveTimeout: 2s }\n")).rejects.toThrow(/keepAliveTimeout.*not both/);
    await expect(compiled("  timeouts: { headers: 1s }\n")).rejects.toThrow(/headers/);
  });
});
