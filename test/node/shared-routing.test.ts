import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTING_CASES, checkCase, routingPolicies } from "../shared/routing-table.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";
import { sendWithHost } from "../support/send-with-host.js";

let up: TestUpstream;
let gw: TestGateway;

beforeAll(async () => {
  up = await startUpstream("echo");
  gw = await startTestGateway(Object.fromEntries(routingPolicies(up.url).map((s) => [s.name, s.text])));
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
});

describe("shared routing table on Node", () => {
  it.each(ROUTING_CASES)("$name", async (c) => {
    const res = await sendWithHost(gw.url, c.url, c.method ?? "GET", c.headers ?? {});
    expect(await checkCase(c, res)).toEqual([]);
  });
});
