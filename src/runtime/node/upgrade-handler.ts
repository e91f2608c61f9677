import { ServerResponse, type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { GatewayResponse } from "../../http/exchange.js";
import { errorResponse } from "../../http/error-response.js";
import { GatewayError } from "../../http/gateway-error.js";
import { HeaderList } from "../../http/header-list.js";
import { isWebSocketUpgrade } from "../../http/websocket.js";
import type { Pipeline } from "../../pipeline.js";
import type { GatewayMetrics } from "../../telemetry/gateway-metrics.js";
import { clientConnection } from "./client-connection.js";
import { gatewayRequest, writeResponse, type NodeHandlerOptions } from "./node-handler.js";
import { NodeTunnel } from "./tunnel.js";

export interface UpgradeHandlerOptions extends NodeHandlerOptions {
  readonly metrics: GatewayMetrics;
  /**
   * Serves an upgrade request the gateway does not relay (another protocol, an invalid
   * handshake) as the plain HTTP request it also is: `replay` is its head without the upgrade.
   */
  readonly plain: (socket: Socket, replay: Buffer) => void;
}

export interface UpgradeHandler {
  (req: IncomingMessage, socket: Socket, head: Buffer): void;
  /** Open tunnels. */
  readonly size: number;
  /** Cuts every open tunnel (end of a drain). */
  closeAll(): void;
}

/** Headers of the 101 the gateway writes itself. */
const OWN = new Set(["connection", "upgrade", "content-length", "transfer-encoding"]);

/**
 * The server's 'upgrade' event: a WebSocket handshake runs the whole pipeline like any request
 * (routing, identity, authorization, rate limits, filters; errors are the usual JSON answers);
 * a 101 from the upstream is written to the client and both connections are relayed byte for
 * byte; any other upstream answer (a refusal) is relayed as it came, and the connection closes.
 */
export function upgradeHandler(pipeline: Pipeline, options: UpgradeHandlerOptions): UpgradeHandler {
  const now = options.now ?? (() => performance.now());
  const tunnels = new Map<() => void, NodeTunnel>();
  options.metrics.watchTunnels(() => [...tunnels.values()].map((t) => t.tunnel));
  const { metrics } = options;

  const handle = function handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const startTime = now();
    if (!isWebSocketUpgrade(req.method ?? "", new HeaderList(req.rawHeaders))) return options.plain(socket, Buffer.concat([plainHead(req), head]));
    socket.on("error", () => undefined);
    const conn = clientConnection(socket);
    conn.inFlight++;
    pipeline(gatewayRequest(req, options, startTime, "websocket"), conn.signal).then(
      (response) => {
        conn.inFlight--;
        answer(req, socket, head, response);
      },
      () => {
        conn.inFlight--;
        answer(req, socket, head, errorResponse(new GatewayError("internal", "internal gateway error")));
      },
    );
  };

  function answer(req: IncomingMessage, socket: Socket, head: Buffer, response: GatewayResponse): void {
    const body = response.body;
    if (response.status === 101 && body instanceof NodeTunnel) {
      if (socket.destroyed) return body.cancel();
      let text = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n";
      for (const [name, value] of response.headers.entries()) if (!OWN.has(name.toLowerCase())) text += `${name}: ${value}\r\n`;
      socket.write(`${text}\r\n`, "latin1");
      metrics.tunnelOpened();
      const stop = body.relay(socket, head, (reason) => {
        tunnels.delete(stop);
        const bytes = body.tunnel;
        metrics.tunnelClosed(reason, bytes.toUpstream, bytes.toClient);
      });
      tunnels.set(stop, body);
      return;
    }
    // Refused before any switch: an ordinary HTTP answer on this connection, which then closes.
    if (socket.destroyed) {
      if (body !== null && typeof body === "object" && "cancel" in body) body.cancel();
      return;
    }
    const res = new ServerResponse(req);
    res.assignSocket(socket);
    res.shouldKeepAlive = false;
    res.once("finish", () => {
      res.detachSocket(socket);
      socket.end();
    });
    writeResponse(res, response);
  }

  return Object.assign(handle, {
    get size() {
      return tunnels.size;
    },
    closeAll() {
      for (const stop of [...tunnels.keys()]) stop();
    },
  }) as UpgradeHandler;
}

/** The request head again, without Upgrade and the upgrade token of Connection. */
function plainHead(req: IncomingMessage): Buffer {
  let text = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    let value = raw[i + 1]!;
    if (name === "upgrade") continue;
    if (name === "connection") {
      value = value.split(",").map((t) => t.trim()).filter((t) => t !== "" && t.toLowerCase() !== "upgrade").join(", ");
      if (value === "") continue;
    }
    text += `${raw[i]}: ${value}\r\n`;
  }
  return Buffer.from(`${text}\r\n`, "latin1");
}
