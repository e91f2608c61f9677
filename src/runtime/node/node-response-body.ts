import type { ServerResponse } from "node:http";
import type { ResponseBody } from "../../pipeline/exchange.js";

const QUEUE_LIMIT = 64 * 1024;

/**
 * An upstream response body that undici writes into and the server response reads from,
 * with no Web-stream or Readable in between. Chunks that arrive before the server side is
 * attached are queued (bounded; past the bound the upstream is paused).
 */
export class NodeResponseBody implements ResponseBody {
  private queue: Buffer[] = [];
  private queued = 0;
  private sink: ServerResponse | null = null;
  private paused = false;
  private ended = false;
  private failed: Error | null = null;
  bytes = 0;
  private settledFns: (() => void)[] | null = [];

  constructor(
    private readonly resume: () => void,
    private readonly abort: (reason?: unknown) => void,
  ) {}

  /** Called by the undici handler; returns false to pause the upstream socket. */
  push(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    const sink = this.sink;
    if (sink !== null) {
      if (sink.write(chunk)) return true;
      this.paused = true;
      sink.once("drain", this.onDrain);
      return false;
    }
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.queued < QUEUE_LIMIT) return true;
    this.paused = true;
    return false;
  }

  end(): void {
    this.ended = true;
    this.sink?.end();
    this.settle();
  }

  fail(err: Error): void {
    this.failed = err;
    // Headers are already out: the only honest signal left is a broken connection.
    this.sink?.destroy(err);
    this.settle();
  }

  onSettled(fn: () => void): void {
    if (this.settledFns === null) fn();
    else this.settledFns.push(fn);
  }

  private settle(): void {
    const fns = this.settledFns;
    this.settledFns = null;
    if (fns) for (const fn of fns) fn();
  }

  /** Starts streaming into the server response (headers must already be written). */
  pipeTo(res: ServerResponse): void {
    this.sink = res;
    // A client that leaves mid-body must not leave the upstream connection paused forever.
    res.once("close", () => {
      if (!this.ended && this.failed === null) this.cancel(new Error("client closed the connection"));
    });
    if (this.failed) return void res.destroy(this.failed);
    const queue = this.queue;
    this.queue = [];
    let ok = true;
    for (const chunk of queue) ok = res.write(chunk);
    if (this.ended) return void res.end();
    if (!ok) {
      this.paused = true;
      res.once("drain", this.onDrain);
    } else if (this.paused) this.onDrain();
  }

  cancel(reason?: unknown): void {
    this.queue = [];
    if (!this.ended && this.failed === null) this.abort(reason ?? new Error("response body discarded"));
    this.settle();
  }

  get complete(): boolean {
    return this.ended;
  }

  private readonly onDrain = () => {
    this.paused = false;
    this.resume();
  };
}
