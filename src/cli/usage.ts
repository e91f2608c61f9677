/**
 * What `meshgate help` and `meshgate <command> --help` print.
 *
 * One entry per command: a one-line summary and the synopsis, one flag group per line, so adding
 * a flag is adding (or extending) one line. test/cli/usage.test.ts checks that every flag a
 * command's parser accepts is named here and in README's "Command line" block, and that every
 * flag named here is one the parser accepts.
 */
export const COMMANDS = {
  serve: {
    summary: "serve policies from a directory or a published store; SIGTERM drains and exits 0",
    synopsis: [
      "meshgate serve (--policies DIR | --store redis://HOST:PORT | --store file:PATH) [--prefix meshgate]",
      "               [--wait-for-config[=DURATION]]",
      "               [--port 8080] [--admin-port 9901] [--host 127.0.0.1] [--admin-host 127.0.0.1] [--admin-token-file FILE]",
      "               [--trusted-proxies CIDR,...] [--no-watch] [--allow-empty-reload]",
      "               [--access-log stdout|off|PATH] [--otlp-endpoint URL] [--istio-metrics]",
      "               [--tls-cert FILE --tls-key FILE [--client-ca FILE [--client-auth strict|permissive]]]",
      "               [--key-store redis://HOST:PORT] [--ratelimit-store redis://HOST:PORT] [--ratelimit-local-keys 100000]",
      "               [--path-reject encoded-slash,backslash,semicolon|none]",
      "               [--headers-timeout 10s] [--request-timeout 60s] [--keepalive-timeout 65s] [--max-connections 10000] [--shutdown-grace 8s]",
      "               [--http2-max-concurrent-streams 100] [--http2-max-header-list-size 64Ki] [--http2-max-resets-per-second 100]",
      "               [--workers N|auto]",
      "               [--max-body-size 10Mi] [--headers-with-underscores drop-trusted|drop|reject|allow]",
      "               [--untrusted-traceparent restart|continue]",
      "               [--namespace default] [--cluster-domain cluster.local]",
      "               [--service-discovery off|dns] [--dns-server HOST:PORT]",
    ],
  },
  validate: {
    summary: "check a policy directory: every problem on its own line; exit 1 on errors (and on warnings with --strict)",
    synopsis: ["meshgate validate (--policies DIR | DIR) [--strict]"],
  },
  explain: {
    summary: "why a request goes where it goes, offline: a short summary, or the full trail with --json",
    synopsis: [
      "meshgate explain --policies DIR [METHOD] (URL | PATH --host HOST | grpc://HOST/pkg.Service/Method) [-H|--header 'name: value' ...]",
      "                 [--from CLIENT-ADDRESS] [--json] [--namespace default] [--cluster-domain cluster.local]",
    ],
  },
  publish: {
    summary: "validate and write one versioned bundle that `serve --store` gateways reload",
    synopsis: ["meshgate publish --policies DIR (--redis URL [--prefix meshgate] | --kv-binding NAME [--local] | --file PATH) [--publisher NAME] [--force]"],
  },
  rollback: {
    summary: "re-publish an earlier version (default: the previous) as a new version",
    synopsis: ["meshgate rollback [--to VERSION] (--redis URL [--prefix meshgate] | --kv-binding NAME [--local] | --file PATH) [--publisher NAME]"],
  },
  history: {
    summary: "the kept versions of a store, newest first",
    synopsis: ["meshgate history (--redis URL [--prefix meshgate] | --kv-binding NAME [--local] | --file PATH)"],
  },
  apikey: {
    summary: "make an API key: prints it once and the sha256 entry for a SecurityPolicy (or stores it in Redis)",
    synopsis: ["meshgate apikey create --consumer NAME [--expires ISO-TIME] [--metadata k=v ...] [--redis URL [--prefix meshgate]]"],
  },
  import: {
    summary: "translate Istio documents into meshgate documents (exit 0 exact, 3 lossy, 1 invalid input)",
    synopsis: ["meshgate import istio PATH... [--out DIR] [--namespace NS] [--subset-service TEMPLATE]"],
    details: `Translates Istio documents (VirtualService, DestinationRule, Gateway, ServiceEntry,
AuthorizationPolicy, RequestAuthentication, PeerAuthentication; files or folders, multi-document
YAML) into meshgate documents (Gateway API Gateway/HTTPRoute, Backend, TrafficPolicy, SecurityPolicy).
Documents apply in order: a later one with the same kind, namespace and name replaces the earlier.

  --out DIR                  write one file per input file, named after it (default: YAML on stdout)
  --namespace NS             namespace of documents without one (default: default)
  --subset-service TEMPLATE  the Service a DestinationRule subset stands for (default: {host}-{subset})

stderr: one line per approximated or dropped field, file:document#i: field.path: approximated|dropped: why,
then a summary line. Exit 0: exact; 3: something approximated or dropped; 1: invalid input (nothing written).
`,
  },
  demo: {
    summary: "serve policies/ with the Bookinfo demo upstreams on 9081-9086 (what `npm start` runs)",
    synopsis: ["meshgate demo [--policies policies] [--port 8080] [--admin-port 9901] [--host 127.0.0.1]"],
  },
} as const satisfies Record<string, { summary: string; synopsis: readonly string[]; details?: string }>;

export type CommandName = keyof typeof COMMANDS;

export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** `meshgate <command> --help`: the synopsis, the summary, and the command's details if any. */
export function commandUsage(name: CommandName): string {
  const c: { summary: string; synopsis: readonly string[]; details?: string } = COMMANDS[name];
  return `${c.synopsis.join("\n")}\n\n${c.summary}\n${c.details ? `\n${c.details}` : ""}`;
}

/** `--help` or `-h` among a command's arguments (before a `--` that ends the options). */
export function wantsHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === "--") return false;
    if (a === "--help" || a === "-h") return true;
  }
  return false;
}

/** `meshgate help`: every synopsis. */
export function usage(): string {
  const lines = Object.values(COMMANDS).flatMap((c) => c.synopsis);
  return `meshgate — a Gateway API mesh gateway

Usage:
${lines.map((l) => `  ${l}`).join("\n")}
  meshgate help | version

meshgate <command> --help prints that command's usage. README.md, "Command line", describes every flag.
`;
}
