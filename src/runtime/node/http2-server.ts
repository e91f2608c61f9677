import { constants, createServer, type Http2Server, type Http2Session, type ServerHttp2Stream } from "node:http2";

export interface Http2Limits {
  /** Streams a client may have open at once on one connection (SETTINGS_MAX_CONCURRENT_STREAMS). Default 100. */
  readonly maxConcurrentStreams?: number;
  /** Largest request header block, uncompressed, in bytes (SETTINGS_MAX_HEADER_LIST_SIZE). Default 65,536. */
  readonly maxHeaderListSize?: number;
  /**
   * Streams a client may reset within one second before its connection is closed with GOAWAY
   * ENHANCE_YOUR_CALM: the HTTP/2 rapid-reset flood (CVE-2023-44487) costs the server work per
   * stream while the client's concurrency limit never fills. Default 100.
   */
  readonly maxResetsPerSecond?: number;
}

export const HTTP2_DEFAULTS = { maxConcurrentStreams: 100, maxHeaderListSize: 65_536, maxResetsPerSecond: 100 } as const;

/** The HTTP/2 server the listener hands h2 connections to, with its limits and flood guard. */
export function createGatewayHttp2Server(limits: Http2Limits, onFlood: (session: Http2Session) => void): { server: Http2Server; sessions: Set<Http2Session> } {
  const l = { ...HTTP2_DEFAULTS, ...limits };
  const server = createServer({
    settings: { maxConcurrentStreams: l.maxConcurrentStreams, maxHeaderListSize: l.maxHeaderListSize, enablePush: false },
    maxHeaderListPairs: 256,
    // nghttp2 also refuses a peer whose streams pile up unanswered; keep its own bound in step.
    maxSessionRejectedStreams: l.maxConcurrentStreams,
  });
  const sessions = new Set<Http2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    // A client's misbehaviour ends its session only.
    session.on("error", () => session.destroy());
    let windowStart = 0;
    let resets = 0;
    session.on("stream", (stream: ServerHttp2Stream) => {
      stream.once("aborted", () => {
        const now = performance.now();
        if (now - windowStart > 1_000) {
          windowStart = now;
          resets = 0;
        }
        if (++resets <= l.maxResetsPerSecond || session.destroyed) return;
        onFlood(session);
        session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
        session.destroy();
      });
    });
  });
  return { server, sessions };
}
