import { connect as h2connect, type ClientHttp2Session } from "node:http2";
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from "node:tls";
import { TransportError } from "../../upstream/transport.js";
import { CONNECT_CODES } from "./undici-transport.js";

export interface H2PoolSettings {
  /** TLS connect options for https:// origins (the Backend's CA, client certificate, SNI). */
  readonly tls: ConnectionOptions | null;
  /** Sessions open at once; past it requests wait for a stream slot. */
  readonly maxSessions: number;
  /** Requests waiting for a slot when every session is full; more are refused ("overloaded"). */
  readonly maxPending: number;
  /** Streams one session carries over its life before it is replaced (null: unlimited). */
  readonly maxStreamsPerSession: number | null;
  readonly connectTimeoutMs: number;
  /** An idle session (no stream open) closes after this long. */
  readonly idleTimeoutMs: number;
}

/** What a lease hands back: a session with a stream slot taken, or "http1" when ALPN said the endpoint speaks only HTTP/1.1. */
export type Lease = PooledSession | "http1";
type LeaseCallback = (err: TransportError | null, lease: Lease | null) => void;

/**
 * Streams a session is assumed to take before the peer's SETTINGS say (RFC 9113 §6.5.2
 * recommends at least 100): it decides whether a burst opens a second connection at once.
 */
const ASSUMED_STREAMS = 100;

/** Streams a session takes before the peer's SETTINGS say otherwise. */
const SESSION_OPTIONS = { peerMaxConcurrentStreams: ASSUMED_STREAMS };

/** One HTTP/2 connection of the pool and its stream accounting. */
export class PooledSession {
  active = 0;
  served = 0;
  /** SETTINGS_MAX_CONCURRENT_STREAMS of the peer; ASSUMED_STREAMS until its SETTINGS arrive. */
  maxStreams = ASSUMED_STREAMS;
  /** The peer's first SETTINGS arrived: streams may be opened. */
  ready = false;
  /** No new streams: GOAWAY received, stream budget spent, idle-closed or failed. */
  retired = false;
  /** From the peer's GOAWAY: streams above it were never processed (safe to send again). */
  lastStreamId = Number.POSITIVE_INFINITY;
  /** Why the session failed, for streams that learn of it only by closing. */
  error: Error | null = null;
  idleTimer: NodeJS.Timeout | null = null;
  connectTimer: NodeJS.Timeout | null = null;
  /** Null while the TLS connection is negotiating ALPN. */
  session: ClientHttp2Session | null = null;

  get hasRoom(): boolean {
    return this.ready && !this.retired && this.active < this.maxStreams;
  }
}

/**
 * The HTTP/2 sessions of one endpoint (origin, TLS and connection settings). A session carries
 * streams up to the peer's SETTINGS_MAX_CONCURRENT_STREAMS; when all are full another is opened,
 * up to `maxSessions`, and then requests wait. A GOAWAY retires its session at once: its streams
 * at or below the last stream id run to the end, new ones go to a new session.
 */
export class H2SessionPool {
  private readonly sessions: PooledSession[] = [];
  private readonly waiting: LeaseCallback[] = [];
  /** ALPN chose http/1.1: the endpoint is sent HTTP/1.1 from now on (until the pool is rebuilt). */
  private http1 = false;
  private closed = false;

  constructor(
    private readonly origin: string,
    private readonly settings: H2PoolSettings,
  ) {}

  /** Calls back (synchronously when a slot is free) with a session whose stream slot is taken. */
  lease(cb: LeaseCallback): void {
    if (this.http1) return cb(null, "http1");
    if (this.closed) return cb(new TransportError("connect_failed", `the pool for ${this.origin} is closed`), null);
    for (const s of this.sessions) {
      if (s.hasRoom) return cb(null, this.take(s));
    }
    if (this.waiting.length >= this.settings.maxPending) {
      return cb(new TransportError("overloaded", `endpoint ${this.origin} has ${this.liveSessions()} HTTP/2 connection(s) with every stream busy and ${this.waiting.length} request(s) waiting`), null);
    }
    this.waiting.push(cb);
    this.grow();
  }

  /** Gives a stream slot back (the stream closed). */
  release(s: PooledSession): void {
    s.active--;
    if (s.active === 0) {
      if (s.retired) s.session?.close();
      else this.startIdle(s);
    }
    this.dispatch();
  }

  /** Removes a waiting lease (its request was cancelled before a slot came). */
  forget(cb: LeaseCallback): void {
    const i = this.waiting.indexOf(cb);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  /** Sessions open now (for tests and metrics). */
  liveSessions(): number {
    return this.sessions.length;
  }

  /** Graceful: open streams finish, nothing new starts. */
  close(): void {
    this.closed = true;
    for (const s of this.sessions) {
      s.retired = true;
      if (s.active === 0) s.session?.close();
    }
    this.failWaiting(new TransportError("connect_failed", `the pool for ${this.origin} is closed`));
  }

  private take(s: PooledSession): PooledSession {
    s.active++;
    s.served++;
    if (s.idleTimer !== null) {
      clearTimeout(s.idleTimer);
      s.idleTimer = null;
    }
    const budget = this.settings.maxStreamsPerSession;
    if (budget !== null && s.served >= budget) s.retired = true;
    return s;
  }

  /** Hands free slots to waiting requests, opening sessions when the ones connecting cannot take them all. */
  private dispatch(): void {
    while (this.waiting.length > 0) {
      const s = this.sessions.find((x) => x.hasRoom);
      if (s === undefined) break;
      this.waiting.shift()!(null, this.take(s));
    }
    if (this.waiting.length > 0) this.grow();
  }

  private grow(): void {
    // Sessions still connecting will take ASSUMED_STREAMS each (until their SETTINGS say otherwise).
    let coming = 0;
    for (const s of this.sessions) if (!s.ready && !s.retired) coming += s.maxStreams;
    const live = this.sessions.filter((s) => !s.retired).length;
    if (coming >= this.waiting.length || live >= this.settings.maxSessions) return;
    this.open();
  }

  private open(): void {
    const s = new PooledSession();
    this.sessions.push(s);
    let socket: TLSSocket | null = null;
    const timer = setTimeout(() => {
      const err = Object.assign(new Error(`connect timeout (${this.settings.connectTimeoutMs} ms)`), { code: "UND_ERR_CONNECT_TIMEOUT" });
      if (s.session !== null) s.session.destroy(err);
      else socket?.destroy(err);
    }, this.settings.connectTimeoutMs);
    s.connectTimer = timer;
    const tls = this.settings.tls;
    if (tls === null) return this.attach(s, h2connect(this.origin, SESSION_OPTIONS));
    // ALPN offers h2 and http/1.1; the session starts on the socket once h2 was chosen.
    const url = new URL(this.origin);
    socket = tlsConnect({ ...tls, host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 443), ALPNProtocols: ["h2", "http/1.1"] });
    const secure = socket;
    secure.once("error", (err: Error) => {
      if (s.session === null) this.dropped(s, err);
    });
    secure.once("secureConnect", () => {
      if (secure.alpnProtocol === "h2") return this.attach(s, h2connect(this.origin, { ...SESSION_OPTIONS, createConnection: () => secure }));
      // The endpoint speaks HTTP/1.1 only: requests to it go that way from now on.
      this.http1 = true;
      secure.destroy();
      for (const cb of this.waiting.splice(0)) cb(null, "http1");
      this.dropped(s, null);
    });
  }

  private attach(s: PooledSession, session: ClientHttp2Session): void {
    s.session = session;
    session.on("remoteSettings", (settings) => {
      clearTimeout(s.connectTimer!);
      // Node reports an absent setting as 2^32-1 (unlimited); a peer may lower it later.
      s.maxStreams = Math.max(0, Math.min(settings.maxConcurrentStreams ?? ASSUMED_STREAMS, 2 ** 31 - 1));
      s.ready = true;
      this.dispatch();
    });
    session.on("goaway", (_code: number, lastStreamId: number) => {
      s.lastStreamId = lastStreamId;
      s.retired = true;
      this.dispatch();
    });
    session.on("error", (err: Error) => {
      s.error ??= err;
    });
    session.on("close", () => this.dropped(s, s.error));
  }

  /** The session closed, or its connection never got going. */
  private dropped(s: PooledSession, err: Error | null): void {
    clearTimeout(s.connectTimer!);
    if (s.idleTimer !== null) clearTimeout(s.idleTimer);
    s.retired = true;
    const i = this.sessions.indexOf(s);
    if (i < 0) return;
    this.sessions.splice(i, 1);
    // A session that failed before its SETTINGS: no one else will connect for these waiters.
    if (!s.ready && this.sessions.every((x) => x.retired)) this.failWaiting(connectError(err, this.origin));
    else this.dispatch();
  }

  private startIdle(s: PooledSession): void {
    if (s.idleTimer !== null) return;
    s.idleTimer = setTimeout(() => {
      s.idleTimer = null;
      if (s.active > 0) return;
      s.retired = true;
      s.session?.close();
    }, this.settings.idleTimeoutMs);
    s.idleTimer.unref();
  }

  private failWaiting(err: TransportError): void {
    const waiting = this.waiting.splice(0);
    for (const cb of waiting) cb(err, null);
  }
}

/** A session that never got going: refused, unreachable, TLS refused or timed out connecting. */
export function connectError(err: Error | null, origin: string): TransportError {
  const code = (err as { code?: string } | null)?.code ?? "";
  const what = err === null ? `connection to ${origin} closed before HTTP/2 SETTINGS` : `${code || err.name}: ${err.message}`;
  // As on the HTTP/1.1 path: failures before any byte of a request went out are connect failures.
  if (err === null || CONNECT_CODES.has(code) || code === "UND_ERR_CONNECT_TIMEOUT") return new TransportError("connect_failed", what, { cause: err });
  return new TransportError("reset", what, { cause: err });
}
