import { connect, type Socket } from "node:net";

export interface RawReply {
  /** 0 when the connection closed without a status line. */
  readonly status: number;
  readonly head: string;
  readonly body: string;
  /** Everything the server sent before closing (or before the first full response). */
  readonly raw: string;
  json<T = { error: { code: string; message: string } }>(): T;
}

/**
 * Writes `bytes` to a fresh TCP connection exactly as given (latin1) and resolves with the first
 * response, once its Content-Length body is complete or the server closed the connection.
 */
export function rawExchange(port: number, bytes: string, options: { timeoutMs?: number } = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let raw = "";
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseReply(raw));
    };
    const timer = setTimeout(() => {
      done = true;
      socket.destroy();
      reject(new Error(`no complete response within ${options.timeoutMs ?? 5_000} ms; got ${JSON.stringify(raw)}`));
    }, options.timeoutMs ?? 5_000);
    socket.on("data", (chunk: Buffer) => {
      raw += chunk.toString("latin1");
      if (complete(raw)) finish();
    });
    socket.on("error", () => finish());
    socket.on("close", finish);
    socket.write(Buffer.from(bytes, "latin1"));
  });
}

/** Opens a connection and leaves it to the caller (slow clients, idle clients). */
export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Resolves when the server closes `socket`, with everything it sent. */
export function closedBy(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let raw = "";
    socket.on("data", (c: Buffer) => (raw += c.toString("latin1")));
    socket.on("error", () => undefined);
    if (socket.destroyed) return resolve(raw);
    socket.once("close", () => resolve(raw));
  });
}

function complete(raw: string): boolean {
  const end = raw.indexOf("\r\n\r\n");
  if (end === -1) return false;
  const head = raw.slice(0, end);
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) return raw.endsWith("\r\n0\r\n\r\n");
  const length = /\r\ncontent-length: *(\d+)/i.exec(head);
  return length !== null && raw.length - end - 4 >= Number(length[1]);
}

function dechunk(body: string): string {
  let out = "";
  for (let at = 0; at < body.length; ) {
    const eol = body.indexOf("\r\n", at);
    if (eol === -1) break;
    const size = parseInt(body.slice(at, eol), 16);
    if (!(size > 0)) break;
    out += body.slice(eol + 2, eol + 2 + size);
    at = eol + 4 + size;
  }
  return out;
}

export function parseReply(raw: string): RawReply {
  const end = raw.indexOf("\r\n\r\n");
  const head = end === -1 ? raw : raw.slice(0, end);
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  const rest = end === -1 ? "" : raw.slice(end + 4);
  const body = /\r\ntransfer-encoding: *chunked/i.test(head) ? dechunk(rest) : rest;
  return { status: status ? Number(status[1]) : 0, head, body, raw, json: <T>() => JSON.parse(body) as T };
}
