import { parseSources, type ParseCache, type ParseOptions, type PolicySource } from "../policy/parse.js";
import { prepareWith, type PreparedPolicies } from "./prepare-with.js";

export type { PreparedPolicies } from "./prepare-with.js";

/** Parse and validate: every per-document cost of a load, with nothing compiled yet. */
export function preparePolicies(sources: readonly PolicySource[], hash: string, options: { readonly yaml?: ParseOptions["yaml"]; readonly cache?: ParseCache } = {}): PreparedPolicies {
  return prepareWith(parseSources, sources, hash, options);
}
