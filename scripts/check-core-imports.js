#!/usr/bin/env node
// The core must run on Workers as well as Node: outside src/runtime/ and src/cli/ only
// Web Standards are allowed, so no node:* modules, undici, ioredis or Workers bindings.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

// Everything under src/ but the runtimes and the CLI is core.
const OUTSIDE_CORE = new Set(["src/runtime", "src/cli"]);
const FORBIDDEN = /from\s+["'](node:[^"']+|undici|ioredis|cloudflare:[^"']+|fs|path|http|https|net|tls|crypto|stream)["']/;
const problems = [];

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!OUTSIDE_CORE.has(path)) walk(path);
    } else if (/\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name)) {
      readFileSync(path, "utf8").split("\n").forEach((line, i) => {
        const m = FORBIDDEN.exec(line);
        if (m) problems.push(`${path}:${i + 1}: core code imports "${m[1]}" (move it behind an interface in src/runtime/)`);
      });
    }
  }
}

walk("src");
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log("core imports: Web Standards only");
