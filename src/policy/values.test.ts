import { describe, expect, it } from "vitest";
import { formatPolicyIssue } from "./issues.js";
import { parseSources } from "./parse.js";
import { validateDocuments } from "../snapshot/validate.js";

function lines(name: string, text: string): string[] {
  const { documents, issues } = parseSources([{ name, text }]);
  return [...issues, ...validateDocuments(documents).issues].map(formatPolicyIssue);
}

const route = (rule: string) => `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r }\nspec:\n  rules:\n    - ${rule}\n`;
const modifier = (value: string) => route(`{ filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: x-a, value: ${value} }] } }], backendRefs: [{ name: b }] }`);

describe("values that can never work are refused at validation", () => {
  it("header modifier values must be RFC 9110 field values", () => {
    const at = "r.yaml:document#0: spec.rules[0].filters[0].requestHeaderModifier.set[0].value: ";
    expect(lines("r.yaml", modifier('"a\\r\\nx-injected: 1"'))).toEqual([`${at}must not contain CR or LF (found \\r at offset 1)`]);
    expect(lines("r.yaml", modifier('"a\\u0000b"'))).toEqual([`${at}must not contain control characters (found U+0000 at offset 1)`]);
    expect(lines("r.yaml", modifier('"Zoë 李雷"'))).toEqual([`${at}must be Latin-1 (RFC 9110 field value): "李" (U+674E) at offset 4 cannot be sent in a header; percent-encode it`]);
    expect(lines("r.yaml", modifier('" padded"'))).toEqual([`${at}must not begin or end with a space or tab (RFC 9110 strips them)`]);
    expect(lines("r.yaml", modifier('"Zoë, tab\\tinside"'))).toEqual([]);
  });

  it("names invalid UTF-8 in a file", () => {
    const bytes = Buffer.concat([Buffer.from(modifier("PLACEHOLDER").split("PLACEHOLDER")[0]!), Buffer.from([0x22, 0x61, 0xc3, 0x28, 0x22]), Buffer.from(modifier("PLACEHOLDER").split("PLACEHOLDER")[1]!)]);
    // Runtimes decode policy files as UTF-8 (TextDecoder, readFile "utf8"): bad bytes become U+FFFD.
    const out = lines("r.yaml", new TextDecoder().decode(bytes));
    expect(out).toEqual(["r.yaml:document#0: spec.rules[0].filters[0].requestHeaderModifier.set[0].value: must be Latin-1 (RFC 9110 field value): U+FFFD (the file is not valid UTF-8 here?) at offset 1 cannot be sent in a header; percent-encode it"]);
  });

  it("rewrite paths must be request-line safe", () => {
    const rewrite = (path: string) => route(`{ filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplaceFullPath, replaceFullPath: ${path} } } }], backendRefs: [{ name: b }] }`);
    expect(lines("r.yaml", rewrite('"/a b"'))).toEqual(['r.yaml:document#0: spec.rules[0].filters[0].urlRewrite.path.replaceFullPath: must contain only RFC 3986 path characters (found " " at offset 2; percent-encode it)']);
    expect(lines("r.yaml", rewrite('"/a%zz"'))).toEqual(["r.yaml:document#0: spec.rules[0].filters[0].urlRewrite.path.replaceFullPath: has a % that does not start a %XX escape"]);
    expect(lines("r.yaml", rewrite('"/caf%C3%A9"'))).toEqual([]);
  });

  it("bounds counts and durations", () => {
    expect(lines("r.yaml", route("{ retry: { attempts: 2147483648 }, backendRefs: [{ name: b }] }"))).toEqual(["r.yaml:document#0: spec.rules[0].retry.attempts: Too big: expected number to be <=10"]);
    expect(lines("r.yaml", route("{ timeouts: { request: 99999h }, backendRefs: [{ name: b }] }"))).toEqual(["r.yaml:document#0: spec.rules[0].timeouts.request: must be at most 1h"]);
    expect(lines("r.yaml", route("{ sessionPersistence: { absoluteTimeout: 99999h }, backendRefs: [{ name: b }] }"))).toEqual([
      "r.yaml:document#0: spec.rules[0].sessionPersistence.absoluteTimeout: must be at most 596h31m23s647ms (the longest timer a JavaScript runtime keeps)",
    ]);
    const backend = "apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: b }\nspec:\n  endpoints: [{ url: http://127.0.0.1:1 }]\n  circuitBreaker: { maxRequests: 10000000000 }\n";
    expect(lines("b.yaml", backend)).toEqual(["b.yaml:document#0: spec.circuitBreaker.maxRequests: Too big: expected number to be <=1000000"]);
  });
});

describe("YAML failures always name the file and the document", () => {
  it("an alias bomb", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]", "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]", "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]", "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]", "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]"].join("\n");
    const out = lines("bomb.yaml", `${route("{ backendRefs: [{ name: b }] }")}---\n${bomb}\n`);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^bomb\.yaml:document#1: \(document\): invalid YAML: Excessive alias count .*alias bomb/);
  });

  it("syntax errors, duplicate keys and JSON errors", () => {
    expect(lines("s.yaml", "a: [1, 2\n")[0]).toMatch(/^s\.yaml:document#0: \(document\): invalid YAML \(line \d+, column \d+\): /);
    expect(lines("k.yaml", `${route("{ backendRefs: [{ name: b }] }")}---\na: 1\na: 2\n`)[0]).toMatch(/^k\.yaml:document#1: \(document\): invalid YAML .*: Map keys must be unique/);
    expect(lines("j.json", "{ nope")[0]).toMatch(/^j\.json:document#0: \(document\): invalid JSON: /);
  });
});
