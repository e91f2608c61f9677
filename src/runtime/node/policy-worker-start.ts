import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { ReadRequest } from "./policy-read.js";

// Imports nothing but Node built-ins: `meshgate serve` starts the policy worker thread with this
// before it loads the rest of the gateway, so the worker's start-up and the first read, parse
// and validation run on the other core while this thread loads its own modules.

/** How long files must read the same before they are loaded, and how long to wait for that at most. */
export const SETTLE_MS = 100;
export const SETTLE_MAX_MS = 2_000;

/**
 * The young generation the worker may grow to. Parsing ten thousand documents makes short-lived
 * garbage by the hundred megabytes; with Node's default semispaces most of the parse is spent
 * scavenging. Worker heaps are separate, so this costs the serving thread nothing.
 */
const WORKER_YOUNG_GENERATION_MB = 64;

/** The read a gateway starts with: the whole directory, no configuration in force yet. */
export function firstRead(dir: string): ReadRequest {
  return { dir, full: true, currentHash: null, settleMs: SETTLE_MS, maxMs: SETTLE_MAX_MS };
}

/** Where the worker's code is: the compiled file beside this one (none when running from TypeScript sources). */
export function policyWorkerUrl(): URL | null {
  const url = new URL("./policy-worker.js", import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : null;
}

/** What happened on a started worker before its reader took it over. */
export type EarlyEvent = { readonly kind: "message"; readonly message: unknown } | { readonly kind: "error"; readonly error: Error } | { readonly kind: "exit"; readonly code: number };

/**
 * A policy worker thread started ahead of its reader, with its first read already asked for
 * (message id 0). Until `adopt` everything it says is kept, in order.
 */
export class StartedPolicyWorker {
  private events: EarlyEvent[] | null = [];
  private readonly keep = (e: EarlyEvent) => this.events?.push(e);
  private readonly onMessage = (message: unknown) => this.keep({ kind: "message", message });
  private readonly onError = (error: Error) => this.keep({ kind: "error", error });
  private readonly onExit = (code: number) => this.keep({ kind: "exit", code });

  constructor(readonly worker: Worker, readonly first: ReadRequest | null) {
    worker.on("message", this.onMessage);
    worker.on("error", this.onError);
    worker.on("exit", this.onExit);
  }

  /** Whether a reader took the worker over. */
  get adopted(): boolean {
    return this.events === null;
  }

  /** Hands the worker over: what it said so far, and no more keeping. */
  adopt(): readonly EarlyEvent[] {
    const events = this.events ?? [];
    this.events = null;
    this.worker.off("message", this.onMessage);
    this.worker.off("error", this.onError);
    this.worker.off("exit", this.onExit);
    return events;
  }
}

/** Starts the policy worker (null where there is no compiled worker file) and asks for `first` at once. */
export function startPolicyWorker(first: ReadRequest | null = null): StartedPolicyWorker | null {
  const url = policyWorkerUrl();
  if (url === null) return null;
  const worker = new Worker(url, { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
  // Never what keeps the process alive: the gateway's servers are.
  worker.unref();
  if (first !== null) worker.postMessage({ kind: "read", id: 0, request: first });
  return new StartedPolicyWorker(worker, first);
}
