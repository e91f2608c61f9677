import type { Socket } from "node:net";
import type { BodyEnd, ResponseBody } from "../../http/exchange.js";

/** Why a tunnel closed, for metrics: who closed first, or what closed it. */
export type TunnelClose = "client" | "upstream" | "client_error" | "upstream_error" | "idle_timeout" | "shutdown" | "cancelled";

/** After one side closed, how long the other may take to finish its close handshake before it is cut. */
const LINGER_MS = 5_000;

/**
 * The body of a 101 answer on Node: the upstream connection that switched protocols, plus any
 * bytes it sent after its 101 head. The runtime relays it against the client connection once
 * it has written the 101; until then `cancel` closes it (the client left, a retry won).
 */
export class NodeTunnel implements ResponseBody {
  private toUpstreamBytes = 0;
  private toClientBytes = 0;
  private settledFns: ((end: BodyEnd) => void)[] | null = [];
  private closing: TunnelClose | null = null;
  private upstreamClosed = false;
  outcome: BodyEnd | null = null;

  constructor(
    private readonly upstream: Socket,
    private readonly upstreamHead: Buffer,
    /** Silence both ways that closes the tunnel (the Backend's stream idle timeout); 0: none. */
    readonly idleMs: number,
  ) {
    // Not ours to read until relay(): a close before then still ends the tunnel.
    upstream.on("error", () => undefined);
    upstream.once("close", () => (this.upstreamClosed = true));
  }

  get tunnel(): { toUpstream: number; toClient: number } {
    return { toUpstream: this.toUpstreamBytes, toClient: this.toClientBytes };
  }

  get bytes(): number {
    return this.toClientBytes;
  }

  onSettled(fn: (end: BodyEnd) => void): void {
    if (this.settledFns === null) fn(this.outcome!);
    else this.settledFns.push(fn);
  }

  cancel(): void {
    this.closing ??= "cancelled";
    this.upstream.destroy();
    this.settle("cancelled");
  }

  /**
   * Relays bytes both ways until either side closes, then closes the other (after it flushed
   * what it was sent, within LINGER_MS). `idleMs` of silence in both directions closes both.
   * `onClose` hears once why it ended; the returned function cuts the tunnel (shutdown).
   */
  relay(client: Socket, clientHead: Buffer, onClose: (reason: TunnelClose) => void): () => void {
    const idleMs = this.idleMs;
    const upstream = this.upstream;
    let closed = 0;
    let linger: ReturnType<typeof setTimeout> | null = null;
    const closeBoth = (reason: TunnelClose) => {
      this.closing ??= reason;
      client.destroy();
      upstream.destroy();
    };
    const sideClosed = (side: "client" | "upstream", other: Socket) => () => {
      this.closing ??= side;
      // The other side gets what is still buffered for it, then a FIN; cut if it lingers.
      if (!other.destroyed) {
        other.end();
        linger ??= setTimeout(() => other.destroy(), LINGER_MS);
        linger.unref?.();
      }
      if (++closed < 2) return;
      if (linger !== null) clearTimeout(linger);
      const reason = this.closing;
      this.settle(reason === "upstream_error" ? "failed" : reason === "client_error" || reason === "shutdown" || reason === "cancelled" ? "cancelled" : "complete");
      onClose(reason);
    };
    client.on("close", sideClosed("client", upstream));
    client.on("error", () => closeBoth("client_error"));
    upstream.on("error", () => closeBoth("upstream_error"));
    client.on("data", (chunk: Buffer) => void (this.toUpstreamBytes += chunk.length));
    upstream.on("data", (chunk: Buffer) => void (this.toClientBytes += chunk.length));
    // Any byte either way goes through the client socket, so its inactivity timer is the tunnel's.
    if (idleMs > 0) client.setTimeout(idleMs, () => closeBoth("idle_timeout"));
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    if (this.upstreamHead.length > 0) {
      this.toClientBytes += this.upstreamHead.length;
      client.write(this.upstreamHead);
    }
    if (clientHead.length > 0) {
      this.toUpstreamBytes += clientHead.length;
      upstream.write(clientHead);
    }
    // pipe() ends the destination when the source ends (a FIN is passed on) and handles back-pressure.
    upstream.pipe(client);
    client.pipe(upstream);
    // Closed while the 101 was on its way: its close event is gone, so count it now.
    if (this.upstreamClosed) sideClosed("upstream", client)();
    else upstream.on("close", sideClosed("upstream", client));
    return () => closeBoth("shutdown");
  }

  private settle(end: BodyEnd): void {
    const fns = this.settledFns;
    if (fns === null) return;
    this.settledFns = null;
    this.outcome = end;
    for (const fn of fns) fn(end);
  }
}
