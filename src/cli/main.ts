import { commandUsage, isCommand, usage, wantsHelp } from "./usage.js";

// Each command's module is loaded when it runs: `serve` starts its policy worker before loading
// the gateway (serve-early.ts), and no command pays for the others' modules.

/** Entry point; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // Before any parser sees the arguments: `--help` is never an unknown option, whatever else is there.
  if (command !== undefined && isCommand(command) && wantsHelp(rest)) {
    process.stdout.write(commandUsage(command));
    return 0;
  }
  try {
    return await run(command, rest);
  } catch (err) {
    // node:util parseArgs errors (unknown option, missing value) name the flag; point at the usage too.
    const code = (err as { code?: unknown }).code;
    if (command !== undefined && isCommand(command) && typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_")) throw new Error(`${(err as Error).message} (see meshgate ${command} --help)`);
    throw err;
  }
}

async function run(command: string | undefined, rest: string[]): Promise<number> {
  switch (command) {
    case "serve": {
      const { startServeEarly } = await import("./serve-early.js");
      const early = startServeEarly(rest);
      return (await import("./serve.js")).serveCommand(rest, early);
    }
    case "validate":
      return (await import("./validate.js")).validateCommand(rest);
    case "import":
      return (await import("./import.js")).importCommand(rest);
    case "demo":
      return (await import("./demo.js")).demoCommand(rest);
    case "explain":
      return (await import("./explain.js")).explainCommand(rest);
    case "publish":
      return (await import("./publish.js")).publishCommand(rest);
    case "rollback":
      return (await import("./publish.js")).rollbackCommand(rest);
    case "history":
      return (await import("./publish.js")).historyCommand(rest);
    case "apikey":
      return (await import("./apikey.js")).apikeyCommand(rest);
    case "version":
    case "--version":
      process.stdout.write(`${await version()}\n`);
      return 0;
    case "help":
      if (rest[0] !== undefined && isCommand(rest[0])) {
        process.stdout.write(commandUsage(rest[0]));
        return 0;
      }
      process.stdout.write(usage());
      return 0;
    case undefined:
    case "--help":
    case "-h":
      process.stdout.write(usage());
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`meshgate: unknown command "${command}"\n\n${usage()}`);
      return 2;
  }
}

async function version(): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}
