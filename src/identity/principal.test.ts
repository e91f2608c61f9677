import { describe, expect, it } from "vitest";
import { jwtPrincipalId } from "./principal.js";

describe("jwtPrincipalId", () => {
  it.each([
    ["https://idp.example.com/", "alice", "https://idp.example.com/alice"],
    ["https://idp.example.com", "alice", "https://idp.example.com/alice"],
    ["https://idp.example.com/tenant//", "alice", "https://idp.example.com/tenant/alice"],
    ["issuer", "a/b", "issuer/a/b"],
    ["", "alice", "/alice"],
  ])("%s + %s = %s", (iss, sub, id) => {
    expect(jwtPrincipalId(iss, sub)).toBe(id);
  });
});
