import { parseArgs } from "node:util";
import { explain } from "../admin/explain.js";
import { compileSnapshot } from "../snapshot/compile-snapshot.js";
import { PolicyError, formatPolicyIssue } from "../policy/issues.js";
import { readPolicyDir } from "../runtime/node/policy-dir.js";
import { JwksRegistry } from "../identity/jwks-registry.js";
import { nodeJwksFetcher } from "../runtime/node/jwks-fetcher.js";

/** `meshgate explain --policies DIR METHOD URL [-H 'name: value' ...]`: the decision trail, offline. */
export async function explainCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { policies: { type: "string" }, header: { type: "string", short: "H", multiple: true }, from: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  if (!values.policies) throw new Error("explain needs --policies DIR");
  const [method, url] = positionals.length === 1 ? ["GET", positionals[0]] : positionals;
  if (!method || !url) throw new Error("usage: meshgate explain --policies DIR [METHOD] URL [-H 'name: value' ...] [--from CLIENT-ADDRESS]");
  const headers: Record<string, string> = {};
  for (const h of values.header ?? []) {
    const colon = h.indexOf(":");
    if (colon <= 0) throw new Error(`-H expects "name: value", got "${h}"`);
    headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  const sources = await readPolicyDir(values.policies);
  try {
    const snapshot = await compileSnapshot(sources, { location: values.policies, files: sources.map((s) => s.name) });
    process.stdout.write(`${JSON.stringify(await explain(snapshot, { method, url, headers, ...(values.from ? { clientAddress: values.from } : {}) }, { security: { jwks: new JwksRegistry(nodeJwksFetcher), apiKeyStore: null, now: Date.now } }), null, 2)}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    for (const issue of err.issues) process.stderr.write(`${formatPolicyIssue(issue)}\n`);
    return 1;
  }
}
