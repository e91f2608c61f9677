import type { RequestFilter } from "../compiled-rule.js";
import { pathModifier, type PathModifierOptions } from "./path-modifier.js";

export interface UrlRewriteOptions {
  readonly hostname?: string | undefined;
  readonly path?: PathModifierOptions | undefined;
}

/**
 * Gateway API URLRewrite: the upstream sees another Host and/or path; the query is kept. On a
 * mesh route the new Host keeps the port the caller addressed (the Service port), as a redirect does.
 */
export function urlRewrite(options: UrlRewriteOptions): RequestFilter {
  const rewritePath = options.path ? pathModifier(options.path) : null;
  const hostname = options.hostname;
  return function rewriteUrl(req, match) {
    if (hostname !== undefined) req.headers.set("host", match.entry.mesh !== undefined && req.hostPort !== null ? `${hostname}:${req.hostPort}` : hostname);
    if (rewritePath !== null) req.path = rewritePath(req.path, match.entry.path.prefix);
  };
}
