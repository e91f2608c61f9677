import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { identityFixture } from "../shared/identity-table.js";
import { checkCase } from "../shared/routing-table.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { sendWithHost } from "../support/send-with-host.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

const fixture = await identityFixture();
let up: TestUpstream;
let gw: TestGateway;

beforeAll(async () => {
  up = await startUpstream("echo");
  gw = await startTestGateway(Object.fromEntries(fixture.sources(up.url).map((s) => [s.name, s.text])));
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
});

describe("shared identity table on Node", () => {
  it.each(fixture.cases)("$name", async (c) => {
    const res = await sendWithHost(gw.url, c.url, c.method ?? "GET", c.headers ?? {});
    expect(await checkCase(c, res)).toEqual([]);
  });
});
