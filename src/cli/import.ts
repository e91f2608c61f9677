import { parseArgs } from "node:util";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { commandUsage } from "./usage.js";
import { formatDocuments, formatReportLine, ImportInputError, importIstio, type IstioSource } from "../import/istio/import-istio.js";

const IMPORT_USAGE = commandUsage("import");

export const IMPORT_OPTIONS = { out: { type: "string" }, namespace: { type: "string" }, "subset-service": { type: "string" }, help: { type: "boolean", short: "h" } } as const;

/** `meshgate import istio PATH...`. */
export async function importCommand(argv: string[]): Promise<number> {
  if (argv[0] === "--help" || argv[0] === "-h" || argv.length === 0) {
    process.stdout.write(IMPORT_USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  const [source, ...rest] = argv;
  if (source !== "istio") {
    process.stderr.write(`meshgate import: unknown source "${source}" (known: istio)\n\n${IMPORT_USAGE}`);
    return 2;
  }
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, strict: true, options: IMPORT_OPTIONS });
  if (values.help) {
    process.stdout.write(IMPORT_USAGE);
    return 0;
  }
  if (positionals.length === 0) {
    process.stderr.write(`meshgate import istio: give at least one file or folder\n\n${IMPORT_USAGE}`);
    return 2;
  }
  const sources: IstioSource[] = [];
  try {
    for (const p of positionals) sources.push(...(await readSources(p)));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
  let result;
  try {
    result = importIstio(sources, { ...(values.namespace ? { namespace: values.namespace } : {}), ...(values["subset-service"] ? { subsetService: values["subset-service"] } : {}) });
  } catch (err) {
    if (!(err instanceof ImportInputError)) throw err;
    process.stderr.write(`${err.message}\ninvalid input: nothing written\n`);
    return 1;
  }
  for (const s of result.skipped) process.stderr.write(`${s}\n`);
  for (const line of result.report) process.stderr.write(`${formatReportLine(line)}\n`);
  const written = result.outputs.reduce((n, o) => n + o.documents.length, 0);
  let unwritten = 0;
  if (values.out !== undefined) {
    await mkdir(values.out, { recursive: true });
    const used = new Set<string>();
    for (const o of result.outputs) {
      const stem = basename(o.file, extname(o.file));
      let name = `${stem}.yaml`;
      for (let k = 2; used.has(name); k++) name = `${stem}-${k}.yaml`;
      used.add(name);
      if (o.documents.length > 0) {
        await writeFile(join(values.out, name), formatDocuments(o.documents, `meshgate import istio ${o.file}`));
        continue;
      }
      // A file without documents is refused by validate, publish and reloads (it looks truncated):
      // write none, and take back this command's own output of an earlier run so nothing stale is served.
      unwritten++;
      process.stderr.write(`${o.file}: nothing to write: every document was replaced, left alone or not translated\n`);
      const previous = await readFile(join(values.out, name), "utf8").catch(() => null);
      if (previous?.startsWith(`# meshgate import istio ${o.file}\n`)) await rm(join(values.out, name));
    }
  } else {
    process.stdout.write(formatDocuments(result.outputs.flatMap((o) => o.documents), "meshgate import istio"));
  }
  const approximated = result.report.filter((l) => l.outcome === "approximated").length;
  const dropped = result.report.length - approximated;
  process.stderr.write(`${result.exitCode === 0 ? "exact" : "lossy"}: ${sources.length} file(s), ${written} document(s) written${unwritten ? ` (${unwritten} file(s) with nothing to write)` : ""}, ${approximated} approximated, ${dropped} dropped, ${result.skipped.length} non-Istio document(s) left alone\n`);
  return result.exitCode;
}

async function readSources(path: string): Promise<IstioSource[]> {
  const info = await stat(path).catch(() => null);
  if (info === null) throw new Error(`${path}: no such file or folder`);
  if (!info.isDirectory()) return [{ file: path, text: await readFile(path, "utf8") }];
  const names = (await readdir(path)).filter((n) => /\.(ya?ml|json)$/.test(n)).sort();
  return Promise.all(names.map(async (n) => ({ file: join(path, n), text: await readFile(join(path, n), "utf8") })));
}
