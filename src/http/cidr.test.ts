import { describe, expect, it } from "vitest";
import { CidrSet } from "./cidr.js";

describe("CidrSet", () => {
  it("matches IPv4, IPv6 and IPv4-mapped IPv6 addresses", () => {
    const set = new CidrSet(["10.0.0.0/8", "192.168.1.7", "fd00::/8", "::1/128"]);
    expect(set.contains("10.200.3.4")).toBe(true);
    expect(set.contains("11.0.0.1")).toBe(false);
    expect(set.contains("192.168.1.7")).toBe(true);
    expect(set.contains("192.168.1.8")).toBe(false);
    expect(set.contains("::ffff:10.1.1.1")).toBe(true);
    expect(set.contains("fd12:3456::1")).toBe(true);
    expect(set.contains("fe80::1")).toBe(false);
    expect(set.contains("::1")).toBe(true);
    expect(set.contains("not-an-ip")).toBe(false);
  });

  it("rejects malformed ranges with the offending text", () => {
    expect(() => new CidrSet(["10.0.0.0/33"])).toThrow('invalid CIDR "10.0.0.0/33": bad prefix length');
    expect(() => new CidrSet(["10.0.0/8"])).toThrow('invalid CIDR "10.0.0/8": bad address');
  });
});
