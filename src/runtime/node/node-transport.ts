import type { RequestBody } from "../../http/exchange.js";
import type { Transport, UpstreamRequest, UpstreamResponse } from "../../upstream/transport.js";
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

  send(request: UpstreamRequest): Promise<UpstreamResponse> {
    if (request.upgrade) return sendUpgrade(request, request.origin.startsWith("https:"));
    return request.protocol === "h2" ? this.http2.send(request) : this.http1.send(request);
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
