import type { Readable } from "node:stream";
import type { ClientHttp2Stream } from "node:http2";
import type { NodeRequestBody } from "./node-body.js";

/** Fields HTTP/2 forbids (RFC 9113 §8.2.2). */
export const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host"]);

/** Bytes of a streamed request body kept until the upstream answers, so a refused stream can be sent again. */
const REPLAY_LIMIT = 64 * 1024;

/**
 * Feeds a request body into an HTTP/2 stream, and into the next one when the first was refused
 * (GOAWAY, REFUSED_STREAM: the upstream never processed it). A streamed body is read once; what
 * was read is kept (up to REPLAY_LIMIT) until `settled`, so the replay loses no byte. Trailers
 * the client sent after the body are sent as trailing HEADERS.
 */
export class H2BodyPump {
  private kept: Buffer[] | null = [];
  private keptBytes = 0;
  private target: ClientHttp2Stream | null = null;
  private ended = false;
  private failed: Error | null = null;
  private listening = false;
  private onSourceError: (err: Error) => void = () => undefined;
  private readonly source: Readable | null;
  /** Whether the stream must be opened with waitForTrailers (a body that may end in trailers). */
  readonly wantsTrailers: boolean;

  constructor(private readonly body: NodeRequestBody) {
    this.source = body.buffer === null ? body.stream : null;
    this.wantsTrailers = body.mayHaveTrailers;
  }

  /** False once the body outgrew what is kept for a replay (or the upstream answered). */
  get replayable(): boolean {
    return this.body.buffer !== null || this.kept !== null;
  }

  /** Starts (or restarts, after a refusal) sending the body on `stream`. */
  attach(stream: ClientHttp2Stream, onSourceError: (err: Error) => void): void {
    if (this.wantsTrailers) stream.once("wantTrailers", () => this.sendTrailers(stream));
    if (this.body.buffer !== null) return void stream.end(this.body.buffer);
    this.target = stream;
    this.onSourceError = onSourceError;
    for (const chunk of this.kept ?? []) stream.write(chunk);
    if (this.failed) return onSourceError(this.failed);
    if (this.ended) return void stream.end();
    if (this.listening) return void this.source!.resume();
    this.listening = true;
    this.listen();
  }

  /** The upstream answered: the stream can no longer be refused, so nothing more is kept. */
  settled(): void {
    this.kept = null;
  }

  /** The stream was refused; the body waits for the next one. */
  detach(): void {
    this.target = null;
    this.source?.pause();
  }

  private listen(): void {
    const source = this.source!;
    source.on("data", (chunk: Buffer) => {
      if (this.kept !== null) {
        this.keptBytes += chunk.length;
        if (this.keptBytes > REPLAY_LIMIT) this.kept = null;
        else this.kept.push(chunk);
      }
      const target = this.target;
      if (target !== null && !target.write(chunk)) {
        source.pause();
        target.once("drain", () => {
          if (this.target === target) source.resume();
        });
      }
    });
    source.once("end", () => {
      this.ended = true;
      this.target?.end();
    });
    source.once("error", (err: Error) => {
      this.failed = err;
      if (this.target !== null) this.onSourceError(err);
    });
  }

  private sendTrailers(stream: ClientHttp2Stream): void {
    const trailers = this.body.trailers();
    const fields: Record<string, string> = {};
    if (trailers !== null) for (const [name, value] of trailers.entries()) {
      const key = name.toLowerCase();
      if (key.startsWith(":") || CONNECTION_SPECIFIC.has(key)) continue;
      fields[key] = fields[key] === undefined ? value : `${fields[key]}, ${value}`;
    }
    // An empty trailing HEADERS frame ends the stream when the client sent none.
    try {
      stream.sendTrailers(fields);
    } catch (err) {
      stream.destroy(err as Error);
    }
  }
}
