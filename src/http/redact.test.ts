import { describe, expect, it } from "vitest";
import { redactQuery } from "./redact.js";

const names = new Set(["access_token", "api_key", "token", "session_key"]);

describe("redactQuery", () => {
  it("replaces credential values and keeps the rest byte for byte", () => {
    expect(redactQuery("?a=1&access_token=eyJ.x.y&b=%20", names)).toBe("?a=1&access_token=REDACTED&b=%20");
    expect(redactQuery("?token=1&token=2&api_key", names)).toBe("?token=REDACTED&token=REDACTED&api_key=REDACTED");
    expect(redactQuery("?q=token&tokens=1", names)).toBe("?q=token&tokens=1");
  });
  it("sees through case and percent-encoding of the name", () => {
    expect(redactQuery("?Access_Token=s&%61pi_key=s&session%5Fkey=s", names)).toBe("?Access_Token=REDACTED&%61pi_key=REDACTED&session%5Fkey=REDACTED");
    expect(redactQuery("?%zz=1", names)).toBe("?%zz=1");
  });
  it("leaves an empty query alone", () => {
    expect(redactQuery("", names)).toBe("");
    expect(redactQuery("?", names)).toBe("?");
  });
});
