import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTING_CASES, checkCase, routingPolicies } from "../shared/routing-table.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

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

/** node:http, because fetch() cannot set Host; the answer is wrapped as a Web Response. */
function send(url: string, method: string, headers: Record<string, string>): Promise<Response> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${gw.url}${target.pathname}${target.search}`, { method, headers: { ...headers, host: target.host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const h = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
        resolve(new Response(res.statusCode === 301 || chunks.length === 0 ? null : Buffer.concat(chunks), { status: res.statusCode ?? 0, headers: h }));
      });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("shared routing table on Node", () => {
  it.each(ROUTING_CASES)("$name", async (c) => {
    const res = await send(c.url, c.method ?? "GET", c.headers ?? {});
    expect(await checkCase(c, res)).toEqual([]);
  });
});
