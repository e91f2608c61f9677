import { Readable, Transform } from "node:stream";
import { bodyTooLarge } from "../../http/gateway-error.js";
import type { RequestBody } from "../../http/exchange.js";
import { HeaderList } from "../../http/header-list.js";

/** Where the client's trailer fields appear once its body was read: node:http's and node:http2's request. */
export interface TrailerSource {
  readonly rawTrailers: string[];
}

/** A request body on Node: the incoming stream, or its bytes once read for replay. */
export class NodeRequestBody implements RequestBody {
  constructor(
    readonly stream: Readable | null,
    readonly buffer: Buffer | null,
    readonly length: number | null,
    /** The client's request when it may end in trailers (see RequestBody.mayHaveTrailers). */
    readonly trailerSource: TrailerSource | null = null,
  ) {}

  get mayHaveTrailers(): boolean {
    return this.trailerSource !== null;
  }

  trailers(): HeaderList | null {
    const raw = this.trailerSource?.rawTrailers;
    return raw === undefined || raw.length === 0 ? null : new HeaderList([...raw]);
  }

  get replayable(): boolean {
    return this.buffer !== null;
  }

  capped(maxBytes: number): NodeRequestBody {
    if (this.stream === null) return this;
    let seen = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        seen += chunk.length;
        if (seen > maxBytes) return done(bodyTooLarge(maxBytes));
        done(null, chunk);
      },
    });
    const source = this.stream;
    source.on("error", (err) => counter.destroy(err));
    return new NodeRequestBody(source.pipe(counter), null, null, this.trailerSource);
  }

  static fromBuffer(buffer: Buffer): NodeRequestBody {
    return new NodeRequestBody(null, buffer, buffer.length);
  }
}

/**
 * Reads the body into memory when it fits in `maxBytes`. A body known to be larger is
 * returned untouched; one that turns out larger while reading is returned as a stream that
 * replays what was read and then continues with the rest, so no byte is lost.
 */
export async function bufferBody(body: NodeRequestBody, maxBytes: number): Promise<NodeRequestBody> {
  if (body.buffer !== null) return body;
  if (body.length !== null && body.length > maxBytes) return body;
  const iterator = (body.stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    chunks.push(next.value);
    size += next.value.length;
    if (size > maxBytes) {
      const rest = { [Symbol.asyncIterator]: () => iterator };
      const stream = Readable.from((async function* () {
        yield* chunks;
        yield* rest;
      })(), { objectMode: false });
      return new NodeRequestBody(stream, null, body.length, body.trailerSource);
    }
  }
  return new NodeRequestBody(null, Buffer.concat(chunks, size), size, body.trailerSource);
}
