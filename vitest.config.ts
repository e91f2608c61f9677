import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import "./test/shared/provided-context.js";

/** The bound service: answers with what reached it, and 503 on /reviews/fail so retries can be seen. */
const REVIEWS_WORKER = `let calls = 0;
export default {
  async fetch(request) {
    calls++;
    const url = new URL(request.url);
    if (url.pathname === "/reviews/fail") return new Response("down", { status: 503 });
    return Response.json({ worker: "reviews-aux", calls, url: request.url, method: request.method, body: await request.text(), headers: Object.fromEntries(request.headers) });
  },
};`;

export default defineConfig({
  test: {
    // The JSON report feeds scripts/test-summary.js (npm's posttest): one plain closing line for CI.
    reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
    projects: [
      {
        test: {
          name: "node",
          include: ["src/**/*.test.ts", "test/node/**/*.test.ts", "test/cli/**/*.test.ts", "test/deploy/**/*.test.ts"],
          testTimeout: 20_000,
          hookTimeout: 20_000,
          pool: "forks",
        },
      },
      {
        // The same core inside workerd, with the wrangler.toml bindings (KV in a local store).
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            // A short isolate cache so reload tests run fast; production uses wrangler.toml's value.
            miniflare: {
              // Stands in for an mtls_certificates binding: a fetcher that answers for the mTLS upstream.
              serviceBindings: { UPSTREAM_CERT: async (request: Request) => Response.json({ via: "UPSTREAM_CERT", url: request.url }), REVIEWS: "reviews-aux" },
              // An auxiliary Worker bound as a service: a Backend endpoint `binding: REVIEWS` calls it (test/workers/service-binding.test.ts).
              workers: [{ name: "reviews-aux", modules: true, compatibilityDate: "2026-04-21", script: REVIEWS_WORKER }],
              bindings: { TEST_UPSTREAM_PORT: String(inject("upstreamPort")), MESHGATE_CONFIG_TTL_MS: "100", MESHGATE_ADMIN_TOKEN: "test-admin-token", MESHGATE_OTLP_ENDPOINT: `http://127.0.0.1:${inject("collectorPort")}`, TEST_COLLECTOR_PORT: String(inject("collectorPort")), TEST_JWKS_PORT: String(inject("jwksPort")), TEST_JWKS_PRIVATE_KEY: inject("jwksPrivateKey"), TEST_RETRY_UPSTREAM_PORT: String(inject("retryUpstreamPort")), TEST_WS_UPSTREAM_PORT: String(inject("wsUpstreamPort")), TEST_STREAM_UPSTREAM_PORT: String(inject("streamUpstreamPort")), TEST_ROTATING_JWKS_PORT: String(inject("rotatingJwksPort")) },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          globalSetup: ["test/workers/global-setup.ts"],
          testTimeout: 20_000,
        },
      },
    ],
  },
});
