import { spawn, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestDns {
  /** `127.0.0.1:PORT`, for `--dns-server`. */
  readonly server: string;
  readonly port: number;
  /** Replaces every record (name → addresses) and has dnsmasq re-read them (SIGHUP). */
  write(records: Record<string, readonly string[]>): Promise<void>;
  /** Stops the server: the name server "goes away". */
  stop(): Promise<void>;
  /** Starts it again on the same port with the records last written. */
  restart(): Promise<void>;
  /** Stops it and removes its files. */
  close(): Promise<void>;
}

/** A free loopback UDP port (DNS is UDP first). */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
  const { port } = socket.address();
  await new Promise<void>((r) => socket.close(() => r()));
  return port;
}

/**
 * Debian's dnsmasq on a loopback port, answering only from a hosts file the test rewrites,
 * with a short TTL. Its own service never runs: the binary, in the foreground, owned by the test.
 */
export async function startDnsmasq(records: Record<string, readonly string[]>, ttlSeconds = 1): Promise<TestDns> {
  const dir = await mkdtemp(join(tmpdir(), "meshgate-dns-"));
  const hosts = join(dir, "hosts");
  const port = await freeUdpPort();
  let child: ChildProcess | null = null;
  const render = (r: Record<string, readonly string[]>) => Object.entries(r).flatMap(([name, addresses]) => addresses.map((a) => `${a} ${name}`)).join("\n") + "\n";
  const launch = async () => {
    const args = ["--keep-in-foreground", "--conf-file=/dev/null", `--port=${port}`, "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts", `--addn-hosts=${hosts}`, `--local-ttl=${ttlSeconds}`, "--no-negcache", "--pid-file=", "--user=root", "--log-facility=/dev/null"];
    const proc = spawn(existsSync("/usr/sbin/dnsmasq") ? "/usr/sbin/dnsmasq" : "dnsmasq", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    proc.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    child = proc;
    // Ready once it answers a query for a name it has; a start failure shows its stderr.
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`dnsmasq exited ${proc.exitCode}: ${stderr}`);
      if (await answers(port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`dnsmasq did not answer on 127.0.0.1:${port}: ${stderr}`);
  };
  let last = records;
  await writeFile(hosts, render(records));
  await launch();
  const dns: TestDns = {
    server: `127.0.0.1:${port}`,
    port,
    async write(next) {
      last = next;
      await writeFile(hosts, render(next));
      child?.kill("SIGHUP");
      await new Promise((r) => setTimeout(r, 100));
    },
    async stop() {
      const proc = child;
      child = null;
      if (proc === null || proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await exited;
    },
    async restart() {
      await writeFile(hosts, render(last));
      await launch();
    },
    async close() {
      await dns.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return dns;
}

/** Whether something answers DNS on the port (any reply to a query for "localhost"). */
async function answers(port: number): Promise<boolean> {
  const socket = createSocket("udp4");
  // A minimal query: id 1, RD, one question "localhost" A IN.
  const query = Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 9, ...Buffer.from("localhost"), 0, 0, 1, 0, 1]);
  return new Promise((resolve) => {
    const timer = setTimeout(() => (socket.close(), resolve(false)), 200);
    socket.once("message", () => (clearTimeout(timer), socket.close(), resolve(true)));
    socket.send(query, port, "127.0.0.1", (err) => err && (clearTimeout(timer), socket.close(), resolve(false)));
  });
}
