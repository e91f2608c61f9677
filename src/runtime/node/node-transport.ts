import type { RequestBody } from "../../http/exchange.js";
import { DEFAULT_CONNECTION, TransportError, poolKey, type Transport, type UpstreamRequest, type UpstreamResponse } from "../../upstream/transport.js";
import { Http2Transport } from "./h2-transport.js";
import { UndiciTransport } from "./undici-transport.js";
import { sendUpgrade } from "./upgrade-upstream.js";

/**
 * The Node gateway's transport, by what the attempt speaks: HTTP/1.1 on undici pools, HTTP/2 on
 * pooled node:http2 sessions (undici sends POSTs and streamed bodies one per HTTP/2 connection,
 * which is every gRPC call), WebSocket handshakes on a connection of their own (it becomes the tunnel).
 */
export class NodeTransport implements Transport {
  readonly http1 = new UndiciTransport();
  readonly http2 = new Http2Transport(this.http1);
  /** Open WebSocket tunnels per endpoint (origin, TLS and connection settings). */
  private readonly tunnels = new Map<string, number>();

  send(request: UpstreamRequest): Promise<UpstreamResponse> {
    if (request.upgrade) return this.sendUpgrade(request);
    return request.protocol === "h2" ? this.http2.send(request) : this.http1.send(request);
  }

  /**
   * A tunnel holds its upstream connection for its whole life, so it counts against the
   * endpoint's `connection.maxConnections` until it closes; past the limit the handshake is
   * refused before anything is sent (503 backend_overloaded). No queue: a tunnel may never end.
   */
  private sendUpgrade(request: UpstreamRequest): Promise<UpstreamResponse> {
    const secure = request.origin.startsWith("https:");
    const connection = request.connection ?? DEFAULT_CONNECTION;
    const max = connection.maxConnections;
    if (max === null) return sendUpgrade(request, secure);
    const key = poolKey(request.origin, request.tls, connection, "websocket");
    const open = this.tunnels.get(key) ?? 0;
    if (open >= max) return Promise.reject(new TransportError("overloaded", `endpoint ${request.origin} has ${open} WebSocket connection(s) open, its connection.maxConnections`));
    this.tunnels.set(key, open + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (this.tunnels.get(key) ?? 1) - 1;
      if (left > 0) this.tunnels.set(key, left);
      else this.tunnels.delete(key);
    };
    return sendUpgrade(request, secure).then(
      (res) => {
        if (res.body.onSettled) res.body.onSettled(release);
        else release();
        return res;
      },
      (err: unknown) => {
        release();
        throw err;
      },
    );
  }

  makeReplayable(body: RequestBody, maxBytes: number): Promise<RequestBody> {
    return this.http1.makeReplayable(body, maxBytes);
  }

  retain(keys: ReadonlySet<string>): void {
    this.http1.retain(keys);
    this.http2.retain(keys);
  }

  async close(): Promise<void> {
    await Promise.all([this.http1.close(), this.http2.close()]);
  }
}
