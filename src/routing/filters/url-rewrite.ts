import type { RequestFilter } from "../compiled-rule.js";
import { pathModifier, type PathModifierOptions } from "./path-modifier.js";

export interface UrlRewriteOptions {
  readonly hostname?: string | undefined;
  readonly path?: PathModifierOptions | undefined;
}

/** Gateway API URLRewrite: the upstream sees another Host and/or path; the query is kept. */
export function urlRewrite(options: UrlRewriteOptions): RequestFilter {
  const rewritePath = options.path ? pathModifier(options.path) : null;
  const hostname = options.hostname;
  return function rewriteUrl(req, match) {
    if (hostname !== undefined) req.headers.set("host", hostname);
    if (rewritePath !== null) req.path = rewritePath(req.path, match.entry.path.prefix);
  };
}
