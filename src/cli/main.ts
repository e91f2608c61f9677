import { serveCommand } from "./serve.js";
import { validateCommand } from "./validate.js";
import { demoCommand } from "./demo.js";
import { explainCommand } from "./explain.js";
import { apikeyCommand } from "./apikey.js";
import { importCommand } from "./import.js";
import { historyCommand, publishCommand, rollbackCommand } from "./publish.js";

const USAGE = `meshgate — a Gateway API mesh gateway

Usage:
  meshgate serve (--policies DIR | --store redis://HOST:PORT | --store file:PATH) [--port 8080] [--admin-port 9901]
                 [--host 127.0.0.1] [--trusted-proxies CIDR,...] [--no-watch]
                 [--access-log stdout|off|PATH] [--otlp-endpoint URL] [--istio-metrics]
                 [--tls-cert FILE --tls-key FILE [--client-ca FILE [--client-auth strict|permissive]]]
                 [--key-store redis://HOST:PORT] [--ratelimit-store redis://HOST:PORT]
                 [--path-reject encoded-slash,backslash,semicolon|none]
  meshgate validate DIR
  meshgate explain --policies DIR [METHOD] URL [-H 'name: value' ...] [--from CLIENT-ADDRESS]
  meshgate publish --policies DIR (--redis URL | --kv-binding NAME [--local] | --file PATH) [--publisher NAME]
  meshgate rollback [--to VERSION] (--redis URL | --kv-binding NAME [--local] | --file PATH)
  meshgate history (--redis URL | --kv-binding NAME [--local] | --file PATH)
  meshgate apikey create --consumer NAME [--expires ISO-TIME] [--metadata k=v ...] [--redis URL [--prefix P]]
  meshgate import istio PATH... [--out DIR] [--namespace NS] [--subset-service TEMPLATE]   (meshgate import --help)
  meshgate demo [--port 8080] [--admin-port 9901]      serve policies/ with the Bookinfo demo upstreams
  meshgate help | version
`;

/** Entry point; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
      return serveCommand(rest);
    case "validate":
      return validateCommand(rest);
    case "import":
      return importCommand(rest);
    case "demo":
      return demoCommand(rest);
    case "explain":
      return explainCommand(rest);
    case "publish":
      return publishCommand(rest);
    case "rollback":
      return rollbackCommand(rest);
    case "history":
      return historyCommand(rest);
    case "apikey":
      return apikeyCommand(rest);
    case "version":
    case "--version":
      process.stdout.write(`${await version()}\n`);
      return 0;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`meshgate: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

async function version(): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}
