import { parseArgs } from "node:util";
import { explain } from "../admin/explain.js";
import { compileSnapshot } from "../snapshot/compile-snapshot.js";
import { PolicyError, formatPolicyIssue } from "../policy/issues.js";
import { readPolicyDir } from "../runtime/node/policy-dir.js";
import { JwksRegistry } from "../identity/jwks-registry.js";
import { nodeJwksFetcher } from "../runtime/node/jwks-fetcher.js";
import { explainSummary } from "./explain-summary.js";
import { meshFlags } from "./mesh-flags.js";

export const EXPLAIN_OPTIONS = {
  policies: { type: "string" },
  header: { type: "string", short: "H", multiple: true },
  from: { type: "string" },
  host: { type: "string" },
  json: { type: "boolean", default: false },
  namespace: { type: "string" },
  "cluster-domain": { type: "string" },
} as const;

/** `meshgate explain --policies DIR [METHOD] (URL | PATH --host HOST | grpc://HOST/pkg.Service/Method) [-H 'name: value' ...]`: the decision, offline. */
export async function explainCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: EXPLAIN_OPTIONS, allowPositionals: true, strict: true });
  if (!values.policies) throw new Error("explain needs --policies DIR");
  if (positionals.length < 1 || positionals.length > 2) throw new Error("explain needs [METHOD] URL, e.g. meshgate explain --policies DIR GET http://example.com/path (or: GET /path --host example.com)");
  // A gRPC method (grpc://host/package.Service/Method) is always a POST.
  const [method, target] = positionals.length === 1 ? [/^grpcs?:\/\//i.test(positionals[0]!) ? "POST" : "GET", positionals[0]!] : [positionals[0]!, positionals[1]!];
  const url = requestUrl(target, values.host);
  const headers: Record<string, string> = {};
  for (const h of values.header ?? []) {
    const colon = h.indexOf(":");
    if (colon <= 0) throw new Error(`-H expects "name: value", got "${h}"`);
    headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  // --host with a full URL: the Host header the request carries (as curl -H 'host: …' would).
  if (values.host !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === "host")) headers.host = values.host;
  const sources = await readPolicyDir(values.policies);
  try {
    // As the gateway would read the authority: the namespace it runs in names bare Services and picks consumer routes.
    const snapshot = await compileSnapshot(sources, { location: values.policies, files: sources.map((s) => s.name) }, undefined, { mesh: meshFlags(values), http2Upstreams: "allow" });
    const trail = await explain(snapshot, { method, url, headers, ...(values.from ? { clientAddress: values.from } : {}) }, { security: { jwks: new JwksRegistry(nodeJwksFetcher), apiKeyStore: null, now: Date.now } });
    process.stdout.write(values.json ? `${JSON.stringify(trail, null, 2)}\n` : explainSummary(trail));
    return 0;
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    for (const issue of err.issues) process.stderr.write(`${formatPolicyIssue(issue)}\n`);
    return 1;
  }
}

/** A full URL as given, or a path (with or without its leading /) on --host. */
function requestUrl(target: string, host: string | undefined): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    if (!URL.canParse(target)) throw new Error(`explain: "${target}" is not a valid URL`);
    const scheme = new URL(target).protocol;
    if (scheme !== "http:" && scheme !== "https:" && scheme !== "grpc:" && scheme !== "grpcs:") throw new Error(`explain: the URL must be http:// or https:// (or a gRPC method: grpc://host/package.Service/Method), got "${target}"`);
    return target;
  }
  const path = target.startsWith("/") ? target : `/${target}`;
  if (host === undefined) throw new Error(`explain: "${target}" is not a full URL: give one such as http://example.com${path}, or the path with --host example.com`);
  const url = `http://${host}${path}`;
  if (!URL.canParse(url)) throw new Error(`explain: --host "${host}" with "${target}" does not make a URL (--host takes a host name, optionally with :port)`);
  return url;
}
