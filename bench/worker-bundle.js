#!/usr/bin/env node
// The Worker upload as wrangler builds it (`wrangler deploy --dry-run`, wrangler.toml's minify and
// aliases): total raw and gzip, and what each package and source folder puts into it (esbuild
// metafile). `npm run bench:bundle`; `--no-minify` also builds it unminified for comparison;
// `--json` prints the figures as JSON. Nothing is uploaded.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = join(root, "node_modules", "wrangler", "bin", "wrangler.js");

/** Which package (or src/ folder) an esbuild input belongs to. */
export function groupOf(input) {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (pkg) return pkg[1];
  const src = /(?:^|\/)src\/([^/]+)/.exec(input);
  return src ? `src/${src[1].replace(/\.tsx?$/, "")}` : input;
}

/**
 * Builds the Worker with wrangler into a temporary directory. `minify: false` overrides
 * wrangler.toml's `minify = true`. Returns sizes, wrangler's own "Total Upload" figures and the
 * metafile's inputs (path → bytes in the output).
 */
export async function buildWorkerBundle({ minify = true } = {}) {
  const dir = await mkdtemp(join(tmpdir(), "meshgate-worker-bundle-"));
  try {
    const args = [wrangler, "deploy", "--dry-run", "--outdir", dir, "--metafile", join(dir, "meta.json"), ...(minify ? [] : ["--no-minify"])];
    const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" }, maxBuffer: 16 << 20 });
    const total = /Total Upload: ([0-9.]+) KiB \/ gzip: ([0-9.]+) KiB/.exec(stdout);
    const meta = JSON.parse(await readFile(join(dir, "meta.json"), "utf8"));
    const [outName, output] = Object.entries(meta.outputs).find(([name]) => name.endsWith(".js"));
    const code = await readFile(join(root, outName));
    const inputs = Object.fromEntries(Object.entries(output.inputs).map(([path, i]) => [path, i.bytesInOutput]));
    const groups = new Map();
    for (const [path, bytes] of Object.entries(inputs)) groups.set(groupOf(path), (groups.get(groupOf(path)) ?? 0) + bytes);
    return {
      minify,
      raw: code.length,
      gzip: gzipSync(code).length,
      wrangler: total ? { rawKiB: Number(total[1]), gzipKiB: Number(total[2]) } : null,
      inputs,
      groups: [...groups].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const kib = (n) => (n / 1024).toFixed(1);

function report(b) {
  const lines = [`### Worker bundle (${b.minify ? "minified, as deployed" : "unminified"})`, ""];
  lines.push(`wrangler "Total Upload": ${b.wrangler ? `${b.wrangler.rawKiB} KiB / gzip ${b.wrangler.gzipKiB} KiB` : "(not printed)"}; worker.js ${kib(b.raw)} KiB, gzip ${kib(b.gzip)} KiB`, "");
  lines.push("| part | KiB in the output | share |", "|---|---:|---:|");
  const shown = b.groups.slice(0, 15);
  for (const g of shown) lines.push(`| ${g.name} | ${kib(g.bytes)} | ${((100 * g.bytes) / b.raw).toFixed(1)}% |`);
  const rest = b.groups.slice(15).reduce((n, g) => n + g.bytes, 0);
  if (rest > 0) lines.push(`| (${b.groups.length - 15} more) | ${kib(rest)} | ${((100 * rest) / b.raw).toFixed(1)}% |`);
  return lines.join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const builds = [await buildWorkerBundle({ minify: true })];
  if (process.argv.includes("--no-minify")) builds.push(await buildWorkerBundle({ minify: false }));
  if (process.argv.includes("--json")) console.log(JSON.stringify(builds.map(({ inputs, ...rest }) => rest), null, 2));
  else console.log(builds.map(report).join("\n\n"));
}
