import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { KvPublishTarget, type KvLike } from "../../config/kv-publish-target.js";

const run = promisify(execFile);

export interface WranglerKvOptions {
  readonly binding: string;
  /** Write wrangler's local store (what `wrangler dev` reads) instead of Cloudflare. */
  readonly local: boolean;
  /** Directory holding wrangler.toml. Default: the current directory. */
  readonly cwd?: string;
}

/** Publishing to Workers KV through the wrangler CLI: local store, or the account wrangler is logged in to. */
export function wranglerKvTarget(options: WranglerKvOptions): KvPublishTarget {
  return new KvPublishTarget(new WranglerKv(options), `kv:${options.binding}${options.local ? " (local)" : ""}`);
}

class WranglerKv implements KvLike {
  constructor(private readonly options: WranglerKvOptions) {}

  async get(key: string): Promise<string | null> {
    try {
      const { stdout } = await this.wrangler(["kv", "key", "get", key, ...this.where(), "--text"]);
      return stdout === "" || stdout.startsWith("Value not found") ? null : stdout;
    } catch (err) {
      const out = `${(err as { stdout?: string }).stdout ?? ""}${(err as { stderr?: string }).stderr ?? ""}`;
      if (/not found/i.test(out)) return null;
      throw new Error(`wrangler kv key get ${key} failed: ${out.trim() || (err as Error).message}`);
    }
  }

  async put(key: string, value: string): Promise<void> {
    // Through a file: one command-line argument is capped at 128 KiB on Linux.
    const dir = await mkdtemp(join(tmpdir(), "meshgate-kv-"));
    const file = join(dir, "value.json");
    try {
      await writeFile(file, value);
      await this.wrangler(["kv", "key", "put", key, "--path", file, ...this.where()]);
    } catch (err) {
      throw new Error(`wrangler kv key put ${key} failed: ${((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private where(): string[] {
    return ["--binding", this.options.binding, this.options.local ? "--local" : "--remote"];
  }

  private wrangler(args: string[]) {
    return run("npx", ["--no-install", "wrangler", ...args], { cwd: this.options.cwd ?? process.cwd(), maxBuffer: 64 * 1024 * 1024, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  }
}
