import type { Worker } from "node:worker_threads";
import type { ReadAnswer, ReadRequest } from "./policy-read.js";
import { WireDecoder, type WireBatch, type WirePolicies } from "./policy-wire.js";
import { policyWorkerUrl, startPolicyWorker, type EarlyEvent, type StartedPolicyWorker } from "./policy-worker-start.js";

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
 * A worker thread that runs policy-worker.js (the compiled file beside this one). Running from
 * TypeScript sources (the unit tests) there is no such file, and the reads run inline: the same
 * code, on the calling thread, without the parse cache. `started`: a worker started earlier
 * (policy-worker-start.ts), whose first read, if asked for, answers the first equal `read`.
 */
export function policyReader(started: StartedPolicyWorker | null = null): PolicyReader {
  if (started !== null) return new WorkerReader(started);
  return policyWorkerUrl() !== null ? new WorkerReader(null) : inlineReader();
}

function inlineReader(): PolicyReader {
  // The parser and the schemas load with the first read: a gateway with a worker never loads them here.
  const state = import("./policy-read.js").then(({ PolicyReadState }) => new PolicyReadState());
  return { mode: "inline", read: async (r) => (await state).read(r), touched: () => {
      const at = Date.now();
      void state.then((s) => s.touched(at));
    },
    close: async () => undefined,
  };
}

class WorkerReader implements PolicyReader {
  readonly mode = "worker";
  private worker: Worker | null = null;
  private decoder = new WireDecoder();
  private readonly pending = new Map<number, (answer: ReadAnswer) => void>();
  private nextId = 1;
  private closed = false;
  /** The read the started worker was asked for before this reader existed (message id 0). */
  private early: { readonly request: ReadRequest; readonly answer: Promise<ReadAnswer> } | null = null;

  constructor(started: StartedPolicyWorker | null) {
    if (started === null) return;
    const events = started.adopt();
    if (started.first !== null) this.early = { request: started.first, answer: new Promise((resolve) => this.pending.set(0, resolve)) };
    this.attach(started.worker);
    for (const e of events) this.replay(started.worker, e);
  }

  read(request: ReadRequest): Promise<ReadAnswer> {
    if (this.closed) return Promise.resolve({ kind: "failed", message: "the gateway is closing" });
    const early = this.early;
    this.early = null;
    if (early !== null && sameRequest(early.request, request)) return early.answer;
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
    const started = startPolicyWorker();
    if (started === null) throw new Error("the policy reader thread's code (policy-worker.js) is missing");
    started.adopt();
    return this.attach(started.worker);
  }

  private attach(worker: Worker): Worker {
    worker.on("message", (m: ReaderMessage) => this.message(m));
    worker.on("error", (err) => this.gone(worker, `the policy reader thread failed: ${err.message}`));
    worker.on("exit", (code) => this.gone(worker, `the policy reader thread exited (code ${code})`));
    this.worker = worker;
    return worker;
  }

  /** What the worker said before this reader took it over, handled as if it came now. */
  private replay(worker: Worker, e: EarlyEvent): void {
    if (e.kind === "message") this.message(e.message as ReaderMessage);
    else if (e.kind === "error") this.gone(worker, `the policy reader thread failed: ${e.error.message}`);
    else this.gone(worker, `the policy reader thread exited (code ${e.code})`);
  }

  private message(m: ReaderMessage): void {
    if ("docs" in m) this.decoder.receive(m.docs);
    else this.settle(m.id, m.answer);
  }

  /** A worker that dies (out of memory on a huge file, a bug) fails the reads under way; the next read starts a new one. */
  private gone(worker: Worker, why: string): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.decoder = new WireDecoder();
    this.fail(why);
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

type ReaderMessage = { readonly id: number; readonly answer: WorkerAnswer } | { readonly docs: WireBatch };

function sameRequest(a: ReadRequest, b: ReadRequest): boolean {
  return a.dir === b.dir && a.full === b.full && a.currentHash === b.currentHash && a.settleMs === b.settleMs && a.maxMs === b.maxMs;
}
