import { serialize } from "node:v8";
import { describe, expect, it } from "vitest";
import { compactStrings } from "./compact-strings.js";
import { parseSources, yamlValues } from "./parse.js";
import { ParseCache } from "./parse-cache.js";
import { fastYamlValues } from "../runtime/node/fast-yaml.js";

// V8's serializer tags a string by how it is stored: '"' one byte per character, 'c' two.
const storage = (s: string) => (serialize(s)[2] === 0x22 ? "one-byte" : "two-byte");

const strings = (value: unknown): string[] =>
  typeof value === "string" ? [value] : Array.isArray(value) ? value.flatMap(strings) : value !== null && typeof value === "object" ? Object.values(value).flatMap(strings) : [];

const ROUTE = `# the canary split — 10 % to v2
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web }
spec:
  hostnames: ["shop.example.com"]
  rules:
    - matches: [{ path: { type: PathPrefix, value: /cart }, headers: [{ name: x-canary, value: "yes" }] }]
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier: { set: [{ name: x-env, value: prod }], add: [{ name: x-note, value: "café ≤ 1" }] }
      backendRefs: [{ name: cart, port: 80 }]
`;

describe("compactStrings", () => {
  it("makes the parsers' strings one-byte when a non-ASCII character is elsewhere in the file", () => {
    for (const parsed of [fastYamlValues(ROUTE), yamlValues(ROUTE)]) {
      expect(parsed).not.toBeNull();
      const all = strings(parsed);
      expect(all).toContain("x-canary");
      for (const s of all) expect([s, storage(s)]).toEqual([s, /[^\x00-\xff]/.test(s) ? "two-byte" : "one-byte"]);
      expect(all).toContain("café ≤ 1");
    }
  });

  it("reads the same values as before, only stored differently", () => {
    const before = JSON.parse(JSON.stringify(yamlValues(ROUTE)));
    expect(fastYamlValues(ROUTE)).toEqual(before);
    expect(compactStrings(structuredClone(before), ROUTE)).toEqual(before);
  });

  it("covers the reporting parse and the parse cache alike", () => {
    const broken = `${ROUTE}---\nkind: [unclosed\n`;
    const { documents, issues } = parseSources([{ name: "routes.yaml", text: broken }]);
    expect(issues.map((i) => i.file)).toEqual(["routes.yaml"]);
    expect(storage((documents[0]!.value as { kind: string }).kind)).toBe("one-byte");
    const cached = parseSources([{ name: "routes.yaml", text: ROUTE }], { cache: new ParseCache(fastYamlValues) });
    expect(storage((cached.documents[0]!.value as { kind: string }).kind)).toBe("one-byte");
  });

  it("leaves ASCII-only texts' values untouched and visits an aliased object once", () => {
    const values = [{ a: "x" }];
    expect(compactStrings(values, "a: x\n")).toBe(values);
    const shared = { name: "x-shared" };
    const doc = { first: shared, second: shared, list: [shared] };
    expect(compactStrings(doc, "é")).toEqual({ first: { name: "x-shared" }, second: { name: "x-shared" }, list: [{ name: "x-shared" }] });
    expect(doc.first).toBe(doc.second);
  });
});
