import { describe, expect, it } from "vitest";
import { buildWorkerBundle, type WorkerBundle } from "../../bench/worker-bundle.js";

/**
 * What the Worker upload is made of, read from a real build (`wrangler deploy --dry-run`, the
 * esbuild metafile): no YAML parser, zod's functional API (zod/mini) and none of its classic
 * API or locales. Sizes are measured by `npm run bench:bundle`,
 * not asserted here.
 */
describe("the Worker bundle as wrangler builds it", () => {
  let built: WorkerBundle;
  const inputs = () => Object.keys(built.inputs);

  it("builds from src/runtime/workers/worker.ts with the gateway in it", async () => {
    built = await buildWorkerBundle();
    expect(inputs()).toContain("src/runtime/workers/worker.ts");
    expect(inputs()).toContain("src/snapshot/compile-snapshot.ts");
    expect(inputs().some((p) => p.includes("node_modules/hono/"))).toBe(true);
  }, 120_000);

  it("carries no YAML parser: the stub stands in for the yaml package", () => {
    expect(inputs().filter((p) => p.includes("node_modules/yaml/"))).toEqual([]);
    expect(inputs()).toContain("src/runtime/workers/no-yaml.ts");
  });

  it("validates with zod/mini: zod's classic API is not in it", () => {
    expect(inputs().some((p) => p.includes("node_modules/zod/v4/mini/"))).toBe(true);
    expect(inputs().filter((p) => p.includes("node_modules/zod/v4/classic/"))).toEqual([]);
  });

  it("carries no zod locale but English (error messages stay the ones Node prints)", () => {
    expect(inputs().filter((p) => /node_modules\/zod\/.*locales\//.test(p) && !p.endsWith("/locales/en.js"))).toEqual([]);
  });
});
