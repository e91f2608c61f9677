import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

let a: TestUpstream, b: TestUpstream;
let gw: TestGateway;

const routes = (weightA: number, weightB: number) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: sticky }
spec:
  rules:
    - matches: [{ path: { type: PathPrefix, value: /cookie } }]
      sessionPersistence: { sessionName: cart-session, type: Cookie, absoluteTimeout: 1h, cookieConfig: { lifetimeType: Permanent } }
      backendRefs: [{ name: a, weight: ${weightA} }, { name: b, weight: ${weightB} }]
    - matches: [{ path: { type: PathPrefix, value: /header } }]
      sessionPersistence: { sessionName: x-session, type: Header }
      backendRefs: [{ name: a, weight: ${weightA} }, { name: b, weight: ${weightB} }]
`;

beforeAll(async () => {
  [a, b] = (await Promise.all(["a", "b"].map(startUpstream))) as [TestUpstream, TestUpstream];
  gw = await startTestGateway({ "backends.yaml": [backendYaml("a", [a.url]), backendYaml("b", [b.url])].join("---\n"), "routes.yaml": routes(50, 50) });
});

afterAll(async () => {
  await gw?.close();
  await a?.close();
  await b?.close();
});

const served = async (path: string, headers: Record<string, string> = {}) => {
  const res = await fetch(`${gw.url}${path}`, { headers });
  return { upstream: res.headers.get("x-upstream"), cookie: res.headers.get("set-cookie"), session: res.headers.get("x-session") };
};

describe("HTTPRoute sessionPersistence", () => {
  it("Cookie: the first answer sets the session cookie; requests that bring it back stay on that backend", async () => {
    const first = await served("/cookie");
    expect(first.cookie).toMatch(/^cart-session=[0-9a-f]{8}\.\d+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=3600$/);
    const cookie = first.cookie!.split(";")[0]!;
    const next = await Promise.all(Array.from({ length: 20 }, () => served("/cookie", { cookie: `other=1; ${cookie}` })));
    expect(new Set(next.map((n) => n.upstream))).toEqual(new Set([first.upstream]));
    expect(next.every((n) => n.cookie === null)).toBe(true);
  });

  it("without a session, traffic still splits by weight", async () => {
    const seen = await Promise.all(Array.from({ length: 60 }, () => served("/cookie")));
    expect(new Set(seen.map((s) => s.upstream))).toEqual(new Set(["a", "b"]));
  });

  it("Header: the token comes back in the named header", async () => {
    const first = await served("/header");
    expect(first.session).toMatch(/^[0-9a-f]{8}\.\d+$/);
    const next = await Promise.all(Array.from({ length: 20 }, () => served("/header", { "x-session": first.session! })));
    expect(new Set(next.map((n) => n.upstream))).toEqual(new Set([first.upstream]));
  });

  it("an unknown, expired or now weightless token gets a fresh session", async () => {
    expect((await served("/cookie", { cookie: "cart-session=deadbeef.1" })).cookie).toMatch(/^cart-session=/);
    const stale = (await served("/cookie")).cookie!.split(";")[0]!.replace(/\.\d+$/, `.${Math.floor(Date.now() / 1000) - 7200}`);
    expect((await served("/cookie", { cookie: stale })).cookie).toMatch(/^cart-session=/);

    // Move all weight to b: sessions on a move over (with a new cookie); sessions on b stay.
    let onA: string | null = null;
    for (let i = 0; i < 40 && onA === null; i++) {
      const s = await served("/cookie");
      if (s.upstream === "a") onA = s.cookie!.split(";")[0]!;
    }
    await gw.write({ "routes.yaml": routes(0, 100) });
    const moved = await served("/cookie", { cookie: onA! });
    expect(moved.upstream).toBe("b");
    expect(moved.cookie).toMatch(/^cart-session=/);
  });
});
