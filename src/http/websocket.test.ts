import { describe, expect, it } from "vitest";
import { HeaderList } from "./header-list.js";
import { isWebSocketHandshake, isWebSocketUpgrade } from "./websocket.js";

const valid = ["Host", "a.test", "Connection", "keep-alive, Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version", "13"];
const without = (name: string) => {
  const lines: string[] = [];
  for (let i = 0; i < valid.length; i += 2) if (valid[i]!.toLowerCase() !== name) lines.push(valid[i]!, valid[i + 1]!);
  return lines;
};
const h = (lines: string[]) => new HeaderList(lines.slice());

describe("isWebSocketUpgrade", () => {
  it("accepts an RFC 6455 handshake, tokens and case as clients send them", () => {
    expect(isWebSocketUpgrade("GET", h(valid))).toBe(true);
    expect(isWebSocketUpgrade("GET", h([...without("upgrade"), "upgrade", "WebSocket"]))).toBe(true);
  });

  it.each([
    ["another method", "POST", valid],
    ["no Connection: upgrade", "GET", without("connection")],
    ["another protocol", "GET", [...without("upgrade"), "Upgrade", "h2c"]],
    ["two protocols", "GET", [...without("upgrade"), "Upgrade", "websocket, h2c"]],
    ["two Upgrade lines", "GET", [...valid, "Upgrade", "websocket"]],
    ["no key", "GET", without("sec-websocket-key")],
    ["a key that is not 16 bytes of base64", "GET", [...without("sec-websocket-key"), "Sec-WebSocket-Key", "short=="]],
    ["two keys", "GET", [...valid, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="]],
    ["no version", "GET", without("sec-websocket-version")],
    ["a version that is not a number", "GET", [...without("sec-websocket-version"), "Sec-WebSocket-Version", "13\u0000"]],
    ["a body", "GET", [...valid, "Content-Length", "4"]],
    ["a chunked body", "GET", [...valid, "Transfer-Encoding", "chunked"]],
  ])("refuses %s (forwarded as a plain request instead)", (_what, method, lines) => {
    expect(isWebSocketUpgrade(method as string, h(lines as string[]))).toBe(false);
  });

  it("the platform variant does without Connection (Workers take it off) but checks the rest", () => {
    expect(isWebSocketHandshake("GET", h(without("connection")))).toBe(true);
    expect(isWebSocketHandshake("GET", h([...without("connection"), "Content-Length", "1"]))).toBe(false);
  });
});
