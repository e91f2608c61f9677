#!/usr/bin/env node
// Every schema object refuses unknown fields (issue 14, item 17): a dropped field silently changes
// what a policy means. Objects are declared with strictObject() from src/policy/strict-object.ts,
// which also suggests the field that was meant; zod's own object builders are refused here so a
// new schema is strict by construction. A line may opt out with a `strict-exempt: <reason>` comment.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const HELPER = join("src", "policy", "strict-object.ts");
const FORBIDDEN = /\bz\s*\.\s*(object|looseObject|strictObject)\s*\(|\.(loose|passthrough|catchall|strip)\s*\(/g;
const problems = [];

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) && path !== HELPER) check(path);
  }
}

function check(path) {
  const text = readFileSync(path, "utf8");
  const lines = text.split("\n");
  for (const m of text.matchAll(FORBIDDEN)) {
    const line = text.slice(0, m.index).split("\n").length;
    if (/strict-exempt:/.test(lines[line - 1] ?? "") || /strict-exempt:/.test(lines[line - 2] ?? "")) continue;
    problems.push(`${path}:${line}: "${m[0].replace(/\s+/g, "")}" builds a non-strict or unhelpful schema object; use strictObject() from src/policy/strict-object.ts`);
  }
}

walk("src");
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log("schemas: strict objects only");
