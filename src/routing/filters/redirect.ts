import type { TerminalFilter } from "../compiled-rule.js";
import { HeaderList } from "../../http/header-list.js";
import { pathModifier, type PathModifierOptions } from "./path-modifier.js";

export interface RedirectOptions {
  readonly scheme?: "http" | "https" | undefined;
  readonly hostname?: string | undefined;
  readonly path?: PathModifierOptions | undefined;
  readonly port?: number | undefined;
  readonly statusCode?: number | undefined;
}

const DEFAULT_PORT = { http: 80, https: 443 } as const;

/**
 * Gateway API RequestRedirect. Port rules from the spec: an explicit port wins; a scheme
 * change implies that scheme's well-known port; otherwise the port the client used: its Host's,
 * else the listener's. On a mesh route the caller addressed the Service, not this gateway, so
 * a Host without a port means the scheme's own port, never the gateway's `--port`.
 * Well-known ports are left out of Location.
 */
export function requestRedirect(options: RedirectOptions): TerminalFilter {
  const status = options.statusCode ?? 302;
  const rewritePath = options.path ? pathModifier(options.path) : null;
  return function redirect(req, match) {
    const scheme = options.scheme ?? req.scheme;
    const host = options.hostname ?? req.host;
    const port =
      options.port ??
      (options.scheme !== undefined ? DEFAULT_PORT[scheme] : (req.hostPort ?? (match.entry.mesh !== undefined ? DEFAULT_PORT[scheme] : req.listenerPort)));
    const path = rewritePath ? rewritePath(req.path, match.entry.path.prefix) : req.path;
    const authority = port === DEFAULT_PORT[scheme] ? formatHost(host) : `${formatHost(host)}:${port}`;
    const location = `${scheme}://${authority}${path}${req.query}`;
    return { status, headers: new HeaderList(["location", location, "content-length", "0"]), body: null };
  };
}

function formatHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
