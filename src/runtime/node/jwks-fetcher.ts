import type { Agent } from "undici";
import type { JwksFetcher } from "../../identity/jwks-registry.js";

const agents = new Map<string, Agent>();
// The CommonJS module.exports, as `default` both from Node's loader and from the CLI bundle's chunk.
let undici: Promise<(typeof import("undici"))["default"]> | undefined;

/** JWKS over undici, with the provider's own CA when it names one (private identity providers). */
export const nodeJwksFetcher: JwksFetcher = async (uri, { ca, timeoutMs }) => {
  // undici's fetch is most of its entry's ~70 ms of loading: only gateways with remote JWKS load it.
  const { Agent, fetch } = await (undici ??= import("undici").then((m) => m.default));
  let dispatcher: Agent | undefined;
  if (ca !== undefined) {
    dispatcher = agents.get(ca);
    if (dispatcher === undefined) agents.set(ca, (dispatcher = new Agent({ connect: { ca } })));
  }
  const res = await fetch(uri, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" }, redirect: "error", ...(dispatcher ? { dispatcher } : {}) });
  if (!res.ok) throw new Error(`JWKS ${uri} answered ${res.status}`);
  return res.json();
};
