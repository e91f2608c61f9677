import { describe, expect, it } from "vitest";
import { PolicyError, formatPolicyIssue } from "../../src/policy/issues.js";
import { compileSnapshot } from "../../src/snapshot/compile-snapshot.js";
import { startTestGateway } from "../support/gateway.js";

// A Backend endpoint may be a Workers service binding; Node has none to call.
const backend = (endpoints: string) => `apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: reviews }\nspec:\n  endpoints: ${endpoints}\n`;
const route = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r }\nspec: { rules: [{ backendRefs: [{ name: reviews, port: 9080 }] }] }\n";
const compile = (text: string, serviceBindings?: "allow" | "warn" | "refuse") => compileSnapshot([{ name: "b.yaml", text }], { location: "t", files: ["b.yaml"] }, undefined, serviceBindings ? { serviceBindings } : {});
const errorsOf = async (p: Promise<unknown>) => {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(PolicyError);
  return (err as PolicyError).issues.map(formatPolicyIssue);
};

describe("service binding endpoints outside Workers", () => {
  it("refuses them when a Node gateway starts, naming the field", async () => {
    const err = await startTestGateway({ "b.yaml": `${backend("[{ binding: REVIEWS }]")}---\n${route}` }).then(() => null, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/b\.yaml:document#0: spec\.endpoints\[0\]\.binding: service binding REVIEWS exists on Cloudflare Workers only; a Node gateway reaches endpoints by url \(http:\/\/ or https:\/\/\)$/m);
  });

  it("warns in validate and publish (they prepare configs for either runtime), and compiles them for Workers", async () => {
    const warned = await compile(`${backend("[{ binding: REVIEWS }]")}---\n${route}`, "warn");
    expect(warned.warnings.map(formatPolicyIssue)).toContain("b.yaml:document#0: spec.endpoints[0].binding: warning: service binding REVIEWS works on Cloudflare Workers only; meshgate serve on Node refuses this Backend");
    const workers = await compile(`${backend("[{ binding: REVIEWS }]")}---\n${route}`);
    expect(workers.backends.get("default/reviews")!.endpoints.map((e) => e.origin)).toEqual(["binding:REVIEWS"]);
  });

  it("needs exactly one of url and binding, and a binding name", async () => {
    expect(await errorsOf(compile(backend('[{ url: "http://a", binding: A }, { weight: 1 }, { binding: "not-a-name" }]')))).toEqual([
      "b.yaml:document#0: spec.endpoints[0].binding: an endpoint needs exactly one of url (an address) or binding (a Workers service binding)",
      "b.yaml:document#0: spec.endpoints[1].url: an endpoint needs exactly one of url (an address) or binding (a Workers service binding)",
      "b.yaml:document#0: spec.endpoints[2].binding: must be a Workers binding name (letters, digits, _)",
    ]);
  });
});
