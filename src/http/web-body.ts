import type { RequestBody, ResponseBody } from "./exchange.js";
import { bodyTooLarge, type GatewayError } from "./gateway-error.js";

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

  /** Set by `capped`; survives makeReplayable, so whoever sends the body learns of an overflow. */
  limiter: BodyLimiter | null = null;

  capped(maxBytes: number): WebRequestBody {
    if (this.stream === null) return this;
    let seen = 0;
    const limiter: BodyLimiter = { overflow: null, onOverflow: null };
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (limiter.overflow !== null) return;
        seen += chunk.byteLength;
        if (seen <= maxBytes) return controller.enqueue(chunk);
        limiter.overflow = bodyTooLarge(maxBytes);
        // While a fetch sends this body, abort it and never end the stream: an errored request
        // stream ends as a well-formed (truncated) chunked body in workerd, which the upstream
        // would take for the whole request. Anyone else reading it sees the error.
        if (limiter.onOverflow) limiter.onOverflow(limiter.overflow);
        else controller.error(limiter.overflow);
      },
    });
    return Object.assign(new WebRequestBody(this.stream.pipeThrough(counter), null, null), { limiter });
  }
}

/** How a capped body tells its sender that it grew past the limit. */
export interface BodyLimiter {
  overflow: GatewayError | null;
  onOverflow: ((err: GatewayError) => void) | null;
}

/**
 * A fetch Response body: streamed to the client as is, or cancelled. `webSocket`: the
 * platform's WebSocket of a 101 answer (Workers' `Response.webSocket`), handed back unopened
 * in the gateway's own 101 so the platform relays the frames.
 */
export class WebResponseBody implements ResponseBody {
  constructor(
    readonly stream: ReadableStream<Uint8Array> | null,
    readonly webSocket: { close(code?: number, reason?: string): void } | null = null,
  ) {}
  cancel(reason?: unknown): void {
    void this.stream?.cancel(reason).catch(() => undefined);
    // Accepting is the only way to close a WebSocket no client will take (a retried or discarded 101).
    if (this.webSocket !== null) {
      try {
        (this.webSocket as { accept?(): void }).accept?.();
        this.webSocket.close(1001, "discarded by the gateway");
      } catch {
        // already closed
      }
    }
  }
}
