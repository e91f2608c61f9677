/** Lower case, no port, no trailing dot: the form hostnames are compared in. */
export function normalizeHost(authority: string): { host: string; port: number | null } {
  let host = authority;
  let port: number | null = null;
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    const rest = end === -1 ? "" : host.slice(end + 1);
    host = end === -1 ? host : host.slice(0, end + 1);
    if (rest.startsWith(":")) port = toPort(rest.slice(1));
  } else {
    const colon = host.lastIndexOf(":");
    if (colon !== -1) {
      port = toPort(host.slice(colon + 1));
      host = host.slice(0, colon);
    }
  }
  if (host.endsWith(".")) host = host.slice(0, -1);
  return { host: host.toLowerCase(), port };
}

function toPort(text: string): number | null {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : null;
}
