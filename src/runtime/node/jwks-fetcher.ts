import { Agent, fetch } from "undici";
import type { JwksFetcher } from "../../identity/jwks-registry.js";

const agents = new Map<string, Agent>();

/** JWKS over undici, with the provider's own CA when it names one (private identity providers). */
export const nodeJwksFetcher: JwksFetcher = async (uri, { ca, timeoutMs }) => {
  let dispatcher: Agent | undefined;
  if (ca !== undefined) {
    dispatcher = agents.get(ca);
    if (dispatcher === undefined) agents.set(ca, (dispatcher = new Agent({ connect: { ca } })));
  }
  const res = await fetch(uri, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" }, redirect: "error", ...(dispatcher ? { dispatcher } : {}) });
  if (!res.ok) throw new Error(`JWKS ${uri} answered ${res.status}`);
  return res.json();
};
