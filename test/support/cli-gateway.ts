import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { freePort } from "./free-port.js";

export interface CliGateway {
  readonly child: ChildProcess;
  readonly url: string;
  readonly adminUrl: string;
  readonly logs: () => string;
  stop(): Promise<number | null>;
}

const BIN = join(process.cwd(), "bin", "meshgate.js");

/** `meshgate serve ARGS` as a real child process on free ports, resolved once /ready answers 200. */
export async function startCliGateway(args: string[], options: { bin?: string; cwd?: string } = {}): Promise<CliGateway> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [options.bin ?? BIN, "serve", "--access-log", "off", ...args, "--port", String(port), "--admin-port", String(adminPort)], { stdio: ["ignore", "pipe", "pipe"], ...(options.cwd ? { cwd: options.cwd } : {}) });
  let logs = "";
  child.stdout!.on("data", (c: Buffer) => (logs += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (logs += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const gw: CliGateway = {
    child,
    url: `http://127.0.0.1:${port}`,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    logs: () => logs,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      return exited;
    },
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`meshgate serve exited with ${child.exitCode}: ${logs}`);
    try {
      if ((await fetch(`${gw.adminUrl}/ready`)).status === 200) return gw;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`meshgate serve not ready within 15 s: ${logs}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls until `probe` returns true; resolves with the elapsed milliseconds. */
export async function until(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
