import type { Socket } from "node:net";
import { GatewayError } from "../../http/gateway-error.js";

const STATE = Symbol("meshgate.clientConnection");

/** What the gateway keeps per client connection: one abort signal, and how many of its requests are in the pipeline. */
export interface ClientConnection {
  readonly signal: AbortSignal;
  /** Requests of this connection the pipeline has not answered yet (HTTP/1.1: 0 or 1; WebSocket handshakes too). */
  inFlight: number;
}

type TrackedSocket = Socket & { [STATE]?: ClientConnection };

/**
 * The client connection a request arrived on. One abort signal per connection, not per request
 * (a controller per request cost 5% of the hot path). It aborts only when the connection closes
 * while one of its requests is still in the pipeline: once the answer is decided the response
 * body watches the connection itself (NodeResponseBody), so a connection that closes idle, as
 * every `Connection: close` exchange and every keep-alive timeout does, builds no error and
 * dispatches no abort (that was most of what a new connection cost above a bare node:https proxy).
 */
export function clientConnection(socket: Socket): ClientConnection {
  const s = socket as TrackedSocket;
  let conn = s[STATE];
  if (conn === undefined) {
    const controller = new AbortController();
    const state: ClientConnection = (conn = s[STATE] = { signal: controller.signal, inFlight: 0 });
    socket.once("close", () => {
      if (state.inFlight > 0) controller.abort(new GatewayError("bad_request", "client closed the connection"));
    });
  }
  return conn;
}
