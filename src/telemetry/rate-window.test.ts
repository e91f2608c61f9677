import { describe, expect, it } from "vitest";
import { RateWindow } from "./rate-window.js";

describe("RateWindow", () => {
  it("counts requests, 4xx and 5xx of the last 60 seconds and forgets older ones", () => {
    const w = new RateWindow();
    w.add(1_000, 200);
    w.add(1_500, 404);
    w.add(30_000, 503);
    w.add(30_001, 302);
    expect(w.lastMinute(30_500)).toEqual({ requests: 4, clientErrors: 1, serverErrors: 1 });
    // 61 s later the first second has left the window, the 30th has not.
    expect(w.lastMinute(61_999)).toEqual({ requests: 2, clientErrors: 0, serverErrors: 1 });
    expect(w.lastMinute(90_000)).toEqual({ requests: 0, clientErrors: 0, serverErrors: 0 });
  });

  it("reuses a slot a minute later without carrying its old counts", () => {
    const w = new RateWindow();
    for (let i = 0; i < 5; i++) w.add(2_000, 500);
    w.add(62_000, 200); // same slot (second 62 ≡ 2 mod 60)
    expect(w.lastMinute(62_100)).toEqual({ requests: 1, clientErrors: 0, serverErrors: 0 });
  });

  it("ignores slots from a clock reading ahead of now", () => {
    const w = new RateWindow();
    w.add(10_000, 200);
    expect(w.lastMinute(5_000).requests).toBe(0);
  });
});
