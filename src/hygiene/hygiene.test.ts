import { describe, expect, it } from "vitest";
import { addressKey } from "../http/cidr.js";
import type { GatewayRequest } from "../http/exchange.js";
import { HeaderList } from "../http/header-list.js";
import { hygiene } from "./hygiene.js";

const request = (clientAddress: string, lines: string[]): GatewayRequest => ({ method: "GET", scheme: "http", host: "a.test", hostPort: null, listenerPort: 80, path: "/", query: "", headers: new HeaderList(["host", "a.test", ...lines]), body: null, clientAddress, startTime: 0 });
const TP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

describe("hygiene", () => {
  it("keeps an untrusted caller's trace context as a link, not a parent", () => {
    const ids = hygiene({ trustedProxies: ["10.0.0.0/8"] })(request("192.0.2.1", ["traceparent", TP]));
    expect(ids.parentSpanId).toBeNull();
    expect(ids.traceId).not.toBe("0af7651916cd43dd8448eb211c80319c");
    expect(ids.link).toEqual({ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331" });
    const trusted = hygiene({ trustedProxies: ["10.0.0.0/8"] })(request("10.0.0.1", ["traceparent", TP]));
    expect(trusted).toMatchObject({ traceId: "0af7651916cd43dd8448eb211c80319c", parentSpanId: "b7ad6b7169203331", link: null });
  });

  it("resolves the client behind trusted proxies and keeps the peer", () => {
    const clean = hygiene({ trustedProxies: ["10.0.0.0/8"] });
    const cases: [string, string][] = [
      ["203.0.113.1, 10.0.0.2", "203.0.113.1"],
      ["6.6.6.6, 203.0.113.1, 10.0.0.2, 10.0.0.3", "203.0.113.1"],
      ["10.0.0.9, 10.0.0.2", "10.0.0.9"], // all trusted: the left-most
      ["garbage, 10.0.0.2", "10.0.0.2"], // not an address: the proxy that wrote it
      ["203.0.113.1:8080", "203.0.113.1"],
      ["[2001:DB8::1]:443", "2001:db8::1"],
    ];
    for (const [xff, client] of cases) {
      const req = request("10.0.0.1", ["x-forwarded-for", xff]);
      clean(req);
      expect(req.clientAddress, xff).toBe(client);
      expect(req.peerAddress).toBe("10.0.0.1");
      expect(req.headers.get("x-forwarded-for")).toBe(`${xff}, 10.0.0.1`);
    }
  });
});

describe("addressKey", () => {
  it("keys IPv4 by address and IPv6 by prefix", () => {
    expect(addressKey("192.0.2.7", 64)).toBe("192.0.2.7");
    expect(addressKey("::ffff:192.0.2.7", 64)).toBe("192.0.2.7");
    expect(addressKey("2001:db8:1:2:3:4:5:6", 64)).toBe("2001:db8:1:2:0:0:0:0/64");
    expect(addressKey("2001:db8:1:2::9", 64)).toBe(addressKey("2001:db8:1:2:ffff::1", 64));
    expect(addressKey("2001:db8:1:2::9", 128)).not.toBe(addressKey("2001:db8:1:2::8", 128));
    expect(addressKey("2001:db8:1:2::9", 48)).toBe(addressKey("2001:db8:1:3::9", 48));
  });
});
