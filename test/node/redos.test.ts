import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { sendWithHost } from "../support/send-with-host.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

// Issue 14 item 7: `/r/(a+)+` fed 32 characters took 1.2 s on JavaScript's backtracking engine
// and stalled every other request (40: minutes). Policy regexes now run on RE2 (re2js).
const routes = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: redos }
spec:
  rules:
    - matches: [{ path: { type: RegularExpression, value: "/r/(a+)+" } }]
      backendRefs: [{ name: app }]
    - matches: [{ path: { value: /h }, headers: [{ type: RegularExpression, name: x-user, value: "(a+)+b" }] }]
      backendRefs: [{ name: app }]
    - matches: [{ path: { value: /ok } }]
      backendRefs: [{ name: app }]
    - name: guarded
      matches: [{ path: { value: /guarded } }]
      backendRefs: [{ name: app }]
---
apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: host-globs }
spec:
  targetRefs: [{ kind: HTTPRoute, name: redos, sectionName: guarded }]
  authorization:
    rules:
      # Nine stars: polynomial of degree nine for a backtracking engine against a long Host.
      - { name: odd-hosts, action: DENY, hosts: ["*a*a*a*a*a*a*a*a*a*b"] }
`;

let up: TestUpstream;
let gw: TestGateway;

beforeAll(async () => {
  up = await startUpstream("app");
  gw = await startTestGateway({ "b.yaml": backendYaml("app", [up.url]), "r.yaml": routes });
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
});

async function timed(url: string, headers: Record<string, string> = {}): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const res = await sendWithHost(gw.url, url, "GET", headers);
  await res.text();
  return { status: res.status, ms: performance.now() - started };
}

describe("regexes from policies run in linear time (RE2)", () => {
  it("answers the ReDoS inputs of the review while other requests keep being served", async () => {
    const evil = [32, 35, 40, 5_000].flatMap((n) => [
      timed(`http://any.test/r/${"a".repeat(n)}!`),
      timed("http://any.test/h", { "x-user": `${"a".repeat(n)}!` }),
    ]);
    // Issued while the evil ones are in flight: on a backtracking engine they would wait behind them.
    const normal = [timed("http://any.test/ok"), timed("http://any.test/r/aaa"), timed("http://any.test/h", { "x-user": "aab" })];
    const [evilResults, normalResults] = await Promise.all([Promise.all(evil), Promise.all(normal)]);
    console.log(`[measure] ReDoS requests (32/35/40/5000 chars, path and header): ${evilResults.map((r) => r.ms.toFixed(1)).join(", ")} ms; concurrent normal requests: ${normalResults.map((r) => r.ms.toFixed(1)).join(", ")} ms`);
    // The path never matches (404); the header never matches, so /h has no rule left (404).
    expect(evilResults.map((r) => r.status)).toEqual(evil.map(() => 404));
    expect(normalResults.map((r) => r.status)).toEqual([200, 200, 200]);
  });

  it("evaluates authorization host globs in linear time too", async () => {
    const host = `${"a".repeat(200)}.test`;
    const started = performance.now();
    const [denied, served, ok] = await Promise.all([timed(`http://${"a".repeat(60)}b/guarded`), timed(`http://${host}/guarded`), timed("http://any.test/ok")]);
    console.log(`[measure] 9-star host glob against a 205-character Host: ${served.ms.toFixed(1)} ms (all three: ${(performance.now() - started).toFixed(1)} ms)`);
    expect([denied.status, served.status, ok.status]).toEqual([403, 200, 200]);
  });
});
