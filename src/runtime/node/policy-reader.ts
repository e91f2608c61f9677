import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { PolicyReadState, type ReadAnswer, type ReadRequest } from "./policy-read.js";
import { WireDecoder, type WirePolicies } from "./policy-wire.js";

/** What the worker posts back: a ReadAnswer, with the prepared set in its wire form. */
export type WorkerAnswer = Exclude<ReadAnswer, { kind: "prepared" }> | { readonly kind: "prepared"; readonly wire: WirePolicies; readonly modified: ReadonlyMap<string, number>; readonly parsed: number };

export type WorkerMessage = { readonly kind: "read"; readonly id: number; readonly request: ReadRequest } | { readonly kind: "touched"; readonly at: number } | { readonly kind: "reset" };

/** Reads and prepares policies off the serving thread (or on it, where no worker can start). */
export interface PolicyReader {
  read(request: ReadRequest): Promise<ReadAnswer>;
  /** The watcher saw an fs event now. */
  touched(): void;
  /** "worker" or "inline": where the reads run. */
  readonly mode: "worker" | "inline";
  close(): Promise<void>;
}

/**
 * The young generation the worker may grow to. Parsing ten thousand documents makes short-lived
 * garbage by the hundred megabytes; with Node's default semispaces most of the parse is spent
 * scavenging. Worker heaps are separate, so this costs the serving thread nothing.
 */
const WORKER_YOUNG_GENERATION_MB = 64;

/**
 * A worker thread that runs policy-worker.js (the compiled file beside this one). Running from
 * TypeScript sources (the unit tests) there is no such file, and the reads run inline: the same
 * code, on the calling thread, without the parse cache.
 */
export function policyReader(): PolicyReader {
  const url = new URL("./policy-worker.js", import.meta.url);
  return existsSync(fileURLToPath(url)) ? new WorkerReader(url) : inlineReader();
}

function inlineReader(): PolicyReader {
  const state = new PolicyReadState();
  return { mode: "inline", read: (r) => state.read(r), touched: () => state.touched(Date.now()), close: async () => undefined };
}

class WorkerReader implements PolicyReader {
  readonly mode = "worker";
  private worker: Worker | null = null;
  private decoder = new WireDecoder();
  private readonly pending = new Map<number, (answer: ReadAnswer) => void>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly url: URL) {}

  read(request: ReadRequest): Promise<ReadAnswer> {
    if (this.closed) return Promise.resolve({ kind: "failed", message: "the gateway is closing" });
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      worker.postMessage({ kind: "read", id, request } satisfies WorkerMessage);
    });
  }

  touched(): void {
    this.worker?.postMessage({ kind: "touched", at: Date.now() } satisfies WorkerMessage);
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    this.fail("the gateway is closing");
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker !== null) return this.worker;
    const worker = new Worker(this.url, { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
    // Never what keeps the process alive: the gateway's servers are.
    worker.unref();
    worker.on("message", (m: { id: number; answer: WorkerAnswer } | { docs: WirePolicies["fresh"] }) => ("docs" in m ? this.decoder.receive(m.docs) : this.settle(m.id, m.answer)));
    // A worker that dies (out of memory on a huge file, a bug) fails the reads under way; the next read starts a new one.
    const gone = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.decoder = new WireDecoder();
      this.fail(why);
    };
    worker.on("error", (err) => gone(`the policy reader thread failed: ${err.message}`));
    worker.on("exit", (code) => gone(`the policy reader thread exited (code ${code})`));
    this.worker = worker;
    return worker;
  }

  private settle(id: number, answer: WorkerAnswer): void {
    const resolve = this.pending.get(id);
    if (resolve === undefined) return;
    this.pending.delete(id);
    if (answer.kind !== "prepared") return resolve(answer);
    try {
      resolve({ kind: "prepared", prepared: this.decoder.decode(answer.wire), modified: answer.modified, parsed: answer.parsed });
    } catch (err) {
      // The two sides disagree on the documents already sent: start both over.
      this.decoder = new WireDecoder();
      this.worker?.postMessage({ kind: "reset" } satisfies WorkerMessage);
      resolve({ kind: "failed", message: (err as Error).message });
    }
  }

  private fail(message: string): void {
    for (const resolve of this.pending.values()) resolve({ kind: "failed", message });
    this.pending.clear();
  }
}
