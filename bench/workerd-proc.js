// The workerd processes a bench started through Miniflare, and their CPU, read from /proc
// (Linux): shared by bench/workers-cpu.js and bench/workers-loop.js.
import { execFileSync } from "node:child_process";
import { readFile, readdir } from "node:fs/promises";

const TICK_US = 1e6 / Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim());

/** workerd processes that are children of this process, by PID. */
export async function workerdPids() {
  const out = [];
  for (const pid of (await readdir("/proc")).filter((p) => /^[0-9]+$/.test(p))) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (stat.includes("(workerd)") && Number(fields[1]) === process.pid) out.push(Number(pid));
  }
  return out;
}

/** A process's user + system CPU so far, in µs. */
export async function cpuUs(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * TICK_US;
}
