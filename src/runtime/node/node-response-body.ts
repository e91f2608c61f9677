import type { BodyEnd, ResponseBody } from "../../http/exchange.js";
import type { HeaderList } from "../../http/header-list.js";

/** What writeResponse needs of a response: node:http's ServerResponse, or node:http2's compatibility one. */
export interface ResponseSink {
  readonly destroyed: boolean;
  readonly req: { readonly complete: boolean };
  shouldKeepAlive?: boolean;
  writeHead(status: number, headers: string[]): unknown;
  write(chunk: Uint8Array): boolean;
  end(chunk?: Uint8Array): unknown;
  /** Trailer fields after the body (HTTP/1.1 chunked, HTTP/2 trailing HEADERS). */
  addTrailers?(headers: Record<string, string>): void;
  once(event: "close" | "drain", fn: () => void): unknown;
  destroy(err?: Error): unknown;
}

const QUEUE_LIMIT = 64 * 1024;

/**
 * An upstream response body that undici writes into and the server response reads from,
 * with no Web-stream or Readable in between. Chunks that arrive before the server side is
 * attached are queued (bounded; past the bound the upstream is paused).
 */
export class NodeResponseBody implements ResponseBody {
  private queue: Buffer[] = [];
  private queued = 0;
  private sink: ResponseSink | null = null;
  private paused = false;
  private ended = false;
  private failed: Error | null = null;
  bytes = 0;
  private settledFns: ((end: BodyEnd) => void)[] | null = [];
  /** How the body ended, once it has. */
  outcome: BodyEnd | null = null;

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

  /** Trailer fields the upstream sent after the body, if any. */
  trailers: HeaderList | null = null;

  end(trailers?: HeaderList | null): void {
    this.ended = true;
    if (trailers && trailers.lines.length > 0) this.trailers = trailers;
    if (this.sink !== null) this.finish(this.sink);
    this.settle("complete");
  }

  private finish(sink: ResponseSink): void {
    if (this.trailers !== null && sink.addTrailers) {
      const fields: Record<string, string> = {};
      for (const [name, value] of this.trailers.entries()) fields[name.toLowerCase()] = fields[name.toLowerCase()] === undefined ? value : `${fields[name.toLowerCase()]}, ${value}`;
      sink.addTrailers(fields);
    }
    sink.end();
  }

  /** The upstream broke the body off (reset, truncated, stalled past the idle timeout). */
  fail(err: Error): void {
    this.failed = err;
    // Headers are already out: the only honest signal left is a broken connection.
    this.sink?.destroy(err);
    this.settle((err as { code?: string }).code === "UND_ERR_BODY_TIMEOUT" ? "timeout" : "failed");
  }

  onSettled(fn: (end: BodyEnd) => void): void {
    if (this.settledFns === null) fn(this.outcome!);
    else this.settledFns.push(fn);
  }

  private settle(end: BodyEnd): void {
    const fns = this.settledFns;
    if (fns === null) return;
    this.settledFns = null;
    this.outcome = end;
    for (const fn of fns) fn(end);
  }

  /** Starts streaming into the server response (headers must already be written). */
  pipeTo(res: ResponseSink): void {
    this.sink = res;
    if (this.failed) return void res.destroy(this.failed);
    // A client that leaves mid-body must not leave the upstream connection paused forever (a
    // body that already arrived whole, as most small ones have, has nothing left to cancel).
    if (!this.ended) {
      res.once("close", () => {
        if (!this.ended && this.failed === null) this.cancel(new Error("client closed the connection"));
      });
    }
    const queue = this.queue;
    this.queue = [];
    let ok = true;
    for (const chunk of queue) ok = res.write(chunk);
    if (this.ended) return void this.finish(res);
    if (!ok) {
      this.paused = true;
      res.once("drain", this.onDrain);
    } else if (this.paused) this.onDrain();
  }

  cancel(reason?: unknown): void {
    this.queue = [];
    // Settle first: the abort below makes undici report an error that is ours, not the upstream's.
    const abort = !this.ended && this.failed === null;
    this.settle("cancelled");
    if (abort) this.abort(reason ?? new Error("response body discarded"));
  }

  get complete(): boolean {
    return this.ended;
  }

  private readonly onDrain = () => {
    this.paused = false;
    this.resume();
  };
}
