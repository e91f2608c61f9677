import type { RequestBody, ResponseBody } from "./exchange.js";

/** A request body held as Web bytes or a Web stream (Workers, or any fetch runtime). */
export class WebRequestBody implements RequestBody {
  constructor(
    readonly stream: ReadableStream<Uint8Array> | null,
    readonly bytes: Uint8Array | null,
    readonly length: number | null,
  ) {}
  get replayable(): boolean {
    return this.bytes !== null;
  }
}

/** A fetch Response body: streamed to the client as is, or cancelled. */
export class WebResponseBody implements ResponseBody {
  constructor(readonly stream: ReadableStream<Uint8Array> | null) {}
  cancel(reason?: unknown): void {
    void this.stream?.cancel(reason).catch(() => undefined);
  }
}
