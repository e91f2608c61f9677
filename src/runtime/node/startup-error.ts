import type { ReloadProblem } from "./reloaders.js";

/**
 * A start that cannot succeed. Its message is what the CLI prints (one line for every case but
 * invalid policies, which list each problem first): what failed, then what to do about it.
 */
export class StartupError extends Error {
  override readonly name = "StartupError";
}

/** A listener that cannot bind: which one, on what address, why, and which flag changes it. */
export function listenError(err: NodeJS.ErrnoException, what: string, host: string, port: number, flags: { port: string; host: string }): StartupError {
  const address = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const why =
    err.code === "EADDRINUSE"
      ? `the address is already in use; stop what listens there or choose another ${flags.port}`
      : err.code === "EACCES"
        ? `permission denied (ports below 1024 need privileges); choose another ${flags.port}`
        : err.code === "EADDRNOTAVAIL"
          ? `${host} is not an address of this machine; check ${flags.host}`
          : err.code === "ENOTFOUND" || err.code === "EAI_AGAIN"
            ? `${host} does not resolve; check ${flags.host}`
            : `${err.message}; check ${flags.host} and ${flags.port}`;
  return new StartupError(`cannot listen on ${address} for ${what}: ${why}`);
}

/** No first config: the reason and the way out (or, after --wait-for-config ran out, how long it waited). */
export function firstConfigError(p: ReloadProblem, waited: string | null): StartupError {
  const after = waited === null ? "" : ` after waiting ${waited}`;
  // Invalid policies: every problem on its own line, then the verdict.
  if (p.invalid) return new StartupError(`${p.problem}\nnot started${after}: ${p.hint}`);
  return new StartupError(`no configuration${after}: ${p.problem}; ${p.hint}${waited === null ? ", or start with --wait-for-config[=DURATION] to wait for it" : ""}`);
}
