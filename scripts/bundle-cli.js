#!/usr/bin/env node
// The CLI as one bundle (dist/cli-bundle/), built after tsc: `meshgate serve` otherwise loads
// some 400 ES modules and CommonJS files one by one (a resolution, a file handle and a compile
// each), about 140 ms of a one-core start at 10,000 routes, before any policy is read. The
// library entry (dist/index.js) stays tsc's output, for importers and their own bundlers.
// Entries keep their names side by side: policy-worker-start finds ./policy-worker.js next to
// itself in dist/runtime/node/ and in the bundle alike.
import { rmSync } from "node:fs";
import { build } from "esbuild";

// Chunk names carry content hashes: a rebuild must not leave the last build's chunks beside its own.
rmSync(new URL("../dist/cli-bundle", import.meta.url), { recursive: true, force: true });

await build({
  entryPoints: { main: "dist/cli/main.js", "policy-worker": "dist/runtime/node/policy-worker.js" },
  outdir: "dist/cli-bundle",
  bundle: true,
  // Each command's and store's modules stay in their own chunk, loaded when they run (as in dist/).
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // CommonJS dependencies (undici, ioredis) call require() for Node's built-ins. Made on first
  // call: createRequire computes the module's lookup paths, ~0.3 ms in each of ~40 chunks.
  banner: { js: 'import { createRequire as __meshgateCreateRequire } from "node:module"; let __meshgateRequire; function require(id) { return (__meshgateRequire ??= __meshgateCreateRequire(import.meta.url))(id); }' },
  // Readable stack traces without source maps: names and per-module path comments are kept.
  minify: false,
  legalComments: "inline",
  logLevel: "warning",
});
