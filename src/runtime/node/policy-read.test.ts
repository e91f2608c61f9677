import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ParseCache } from "../../policy/parse-cache.js";
import { preparePolicies } from "../../snapshot/prepare.js";
import { fastYamlValues } from "./fast-yaml.js";
import { readPolicyDir } from "./policy-dir.js";
import { PolicyReadState } from "./policy-read.js";

// The policy worker parses with js-yaml and loads the `yaml` package only for a text that needs
// it (anchors, any error to report): what it prepares must be what the eager parse prepares.

const route = (name: string) => `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: ${name} }\nspec:\n  hostnames: ["${name}.example.com"]\n  rules: [{ backendRefs: [{ name: echo }] }]\n`;
const backend = 'apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: echo }\nspec:\n  endpoints: [{ url: "http://127.0.0.1:1" }]\n';
/** An anchor and an alias: the fast path leaves this text to the yaml package. */
const anchored = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: anchored }\nspec:\n  hostnames: &h [\"anchored.example.com\"]\n  rules: [{ backendRefs: [{ name: echo }] }]\n";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function policyDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "meshgate-read-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function readBoth(dir: string, state: PolicyReadState) {
  const answer = await state.read({ dir, full: true, currentHash: null, settleMs: 10, maxMs: 2_000 });
  if (answer.kind !== "prepared") throw new Error(`read answered ${answer.kind}`);
  const eager = preparePolicies(await readPolicyDir(dir), answer.prepared.hash);
  return { lazy: answer.prepared, eager };
}

describe("PolicyReadState with the fast parser", () => {
  it("prepares what the eager parse prepares when no text needs the yaml package", async () => {
    const dir = policyDir({ "b.yaml": backend, "r.yaml": [route("a"), route("b")].join("---\n") });
    const { lazy, eager } = await readBoth(dir, new PolicyReadState(new ParseCache(fastYamlValues)));
    expect(lazy.set.routes.map((r) => r.doc.metadata.name)).toEqual(["a", "b"]);
    expect(lazy).toStrictEqual(eager);
  });

  it("loads the yaml package for an anchored text and a broken one, with the same documents and errors", async () => {
    const dir = policyDir({ "b.yaml": backend, "r.yaml": [route("a"), anchored].join("---\n"), "x.yaml": "kind: [unclosed\n" });
    const state = new PolicyReadState(new ParseCache(fastYamlValues));
    const { lazy, eager } = await readBoth(dir, state);
    expect(lazy.set.routes.map((r) => r.doc.metadata.name)).toEqual(["a", "anchored"]);
    expect(lazy.parseIssues.length).toBeGreaterThan(0);
    expect(lazy).toStrictEqual(eager);
    // Read again (the cache holds the documents now): still the same.
    writeFileSync(join(dir, "r.yaml"), [route("a"), anchored, route("c")].join("---\n"));
    const again = await readBoth(dir, state);
    expect(again.lazy).toStrictEqual(again.eager);
  });

  it("reads inline without a cache (the yaml package for every YAML text)", async () => {
    const dir = policyDir({ "b.yaml": backend, "r.yaml": route("a") });
    const { lazy, eager } = await readBoth(dir, new PolicyReadState());
    expect(lazy).toStrictEqual(eager);
  });
});
