import { describe, expect, it } from "vitest";
import { headerSafeValue } from "./ext-value.js";

describe("headerSafeValue", () => {
  it("keeps visible ASCII as is", () => {
    expect(headerSafeValue("alice")).toBe("alice");
    expect(headerSafeValue("a b,c=d")).toBe("a b,c=d");
    expect(headerSafeValue("")).toBe("");
  });
  it("encodes non-ASCII as an RFC 8187 ext-value that decodes back", () => {
    const encoded = headerSafeValue("Zoë 李雷");
    expect(encoded).toBe("UTF-8''Zo%C3%AB%20%E6%9D%8E%E9%9B%B7");
    expect(decodeURIComponent(encoded.slice("UTF-8''".length))).toBe("Zoë 李雷");
  });
  it("encodes control characters, edge spaces, attr-char outsiders and a literal prefix", () => {
    expect(headerSafeValue("a\r\nx-admin: 1")).toBe("UTF-8''a%0D%0Ax-admin%3A%201");
    expect(headerSafeValue(" x")).toBe("UTF-8''%20x");
    expect(headerSafeValue("é'(*)")).toBe("UTF-8''%C3%A9%27%28%2A%29");
    expect(headerSafeValue("UTF-8''abc")).toBe("UTF-8''UTF-8%27%27abc");
  });
});
