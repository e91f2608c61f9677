import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: "forks",
    // The JSON report feeds scripts/test-summary.js (npm's posttest): one plain closing line for CI.
    reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
  },
});
