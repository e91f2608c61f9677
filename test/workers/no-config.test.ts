import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("worker without a published bundle", () => {
  it("answers 503 no_config in the JSON error contract", async () => {
    const res = await SELF.fetch("http://example.com/anything");
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: { code: "no_config", message: "no policy bundle has been published to KV yet" } });
  });
});
