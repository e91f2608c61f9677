#!/usr/bin/env node
// The CLI is compiled by `npm ci` (prepare) into dist/; this shim only loads it (as one bundle: scripts/bundle-cli.js).
import { main } from "../dist/cli-bundle/main.js";

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === "number") process.exitCode = code;
  },
  (err) => {
    console.error(`meshgate: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
