import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMANDS, type CommandName } from "../../src/cli/usage.js";
import { SERVE_OPTIONS } from "../../src/cli/serve.js";
import { VALIDATE_OPTIONS } from "../../src/cli/validate.js";
import { EXPLAIN_OPTIONS } from "../../src/cli/explain.js";
import { HISTORY_OPTIONS, PUBLISH_OPTIONS, ROLLBACK_OPTIONS } from "../../src/cli/publish.js";
import { APIKEY_OPTIONS } from "../../src/cli/apikey.js";
import { IMPORT_OPTIONS } from "../../src/cli/import.js";
import { DEMO_OPTIONS } from "../../src/cli/demo.js";
import { backendYaml } from "../support/gateway.js";

const BIN = join(process.cwd(), "bin", "meshgate.js");
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 20_000 });

/** What each command's parser accepts: the source of truth the usage and README must cover. */
const OPTIONS: Record<CommandName, Readonly<Record<string, { readonly type: string; readonly short?: string }>>> = {
  serve: SERVE_OPTIONS,
  validate: VALIDATE_OPTIONS,
  explain: EXPLAIN_OPTIONS,
  publish: PUBLISH_OPTIONS,
  rollback: ROLLBACK_OPTIONS,
  history: HISTORY_OPTIONS,
  apikey: APIKEY_OPTIONS,
  import: IMPORT_OPTIONS,
  demo: DEMO_OPTIONS,
};
const commands = Object.keys(COMMANDS) as CommandName[];

/** README's "Command line" block, split by command (a line starting `meshgate X` and its indented continuation lines). */
function readmeSynopsis(): Map<string, string> {
  const readme = readFileSync(join(process.cwd(), "README.md"), "utf8");
  const block = /## Command line\n\n```text\n([\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error("README has no ```text block under ## Command line");
  const byCommand = new Map<string, string>();
  let current = "";
  for (const line of block.split("\n")) {
    const start = /^meshgate ([a-z]+)/.exec(line);
    if (start) current = start[1]!;
    else if (!/^\s/.test(line)) continue;
    byCommand.set(current, `${byCommand.get(current) ?? ""}${line}\n`);
  }
  return byCommand;
}

const names = (text: string) => new Set([...text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!));
const mentions = (text: string, flag: string) => names(text).has(flag);

describe("usage: every flag is documented, every documented flag exists", () => {
  const readme = readmeSynopsis();
  it.each(commands)("%s", (command) => {
    const synopsis = COMMANDS[command].synopsis.join("\n");
    const fromReadme = readme.get(command) ?? "";
    expect(fromReadme, `README's Command line block has no meshgate ${command} line`).not.toBe("");
    const accepted = Object.keys(OPTIONS[command]).filter((f) => f !== "help");
    for (const flag of accepted) {
      expect(mentions(synopsis, flag), `--${flag} of ${command} missing from src/cli/usage.ts`).toBe(true);
      expect(mentions(fromReadme, flag), `--${flag} of ${command} missing from README's Command line block`).toBe(true);
    }
    for (const [flag, spec] of Object.entries(OPTIONS[command])) {
      if (spec.short !== undefined && flag !== "help") expect(synopsis).toMatch(new RegExp(`(?<![\\w-])-${spec.short}[ |]`));
    }
    for (const flag of names(synopsis)) expect(accepted, `usage of ${command} names --${flag}, which ${command} does not accept`).toContain(flag);
    for (const flag of names(fromReadme)) expect(accepted, `README names --${flag} for ${command}, which it does not accept`).toContain(flag);
  });
});

describe("meshgate <command> --help", () => {
  it.each(commands)("%s --help prints its usage and exits 0", (command) => {
    const extra = command === "apikey" ? ["create"] : command === "import" ? ["istio"] : [];
    for (const flag of ["--help", "-h"]) {
      const out = run(command, ...extra, flag);
      expect(out.stderr).toBe("");
      expect(out.status).toBe(0);
      expect(out.stdout.startsWith(COMMANDS[command].synopsis[0]!)).toBe(true);
      expect(out.stdout).toContain(COMMANDS[command].summary);
    }
  });

  it("--help wins over other arguments, even ones the parser would refuse", () => {
    const out = run("serve", "--bogus", "--port", "nope", "--help");
    expect(out.status).toBe(0);
    expect(out.stdout.startsWith("meshgate serve ")).toBe(true);
  });

  it("help COMMAND is the same as COMMAND --help; plain help lists every command", () => {
    expect(run("help", "explain").stdout).toBe(run("explain", "--help").stdout);
    const all = run("help");
    expect(all.status).toBe(0);
    for (const c of commands) expect(all.stdout).toContain(COMMANDS[c].synopsis[0]);
  });

  it("an unknown option names the flag and points at the command's --help", () => {
    const out = run("validate", "--stirct", "policies");
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(/^meshgate: Unknown option '--stirct'.*\(see meshgate validate --help\)\n$/);
  });
});

describe("meshgate validate --policies / --strict", () => {
  async function dirWithTypo(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "meshgate-strict-"));
    await writeFile(join(dir, "backend.yaml"), backendYaml("web", ["http://127.0.0.1:9"]));
    // "wbe" resolves to no Backend: a warning, and its half of the traffic would answer 500.
    await writeFile(join(dir, "route.yaml"), "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: web }\nspec:\n  rules: [{ backendRefs: [{ name: web, port: 80 }, { name: wbe, port: 80 }] }]\n");
    return dir;
  }

  it("--policies DIR and the positional DIR give the same answer", () => {
    const flag = run("validate", "--policies", "policies");
    const positional = run("validate", "policies");
    expect(flag.status).toBe(0);
    expect(flag.stdout).toMatch(/^valid: \d+ file\(s\)/m);
    expect(flag.stdout).toBe(positional.stdout);
  });

  it("both forms at once, or two directories, are refused", () => {
    expect(run("validate", "--policies", "policies", "policies").stderr).toContain("--policies DIR or DIR, not both");
    expect(run("validate", "policies", "deploy").stderr).toContain("takes one policy directory, got 2");
    const none = run("validate");
    expect(none.status).toBe(1);
    expect(none.stderr).toContain("meshgate validate --policies DIR");
  });

  it("a warning passes by default and fails with --strict (exit 1, warning on stderr)", async () => {
    const dir = await dirWithTypo();
    const lax = run("validate", "--policies", dir);
    expect(lax.status).toBe(0);
    expect(lax.stdout).toMatch(/wbe/);
    expect(lax.stdout).toMatch(/^valid: .*\(1 warning\(s\)\)$/m);
    const strict = run("validate", "--strict", "--policies", dir);
    expect(strict.status).toBe(1);
    expect(strict.stdout).toBe("");
    expect(strict.stderr).toMatch(/route\.yaml:document#0: .*wbe/);
    expect(strict.stderr).toMatch(/^invalid \(--strict\): 1 warning\(s\) in /m);
  });

  it("--strict on a clean directory exits 0", () => {
    const out = run("validate", "--strict", "policies");
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/^valid: /);
  });
});

describe("meshgate explain: summary, --json, --host", () => {
  it("prints route, rule, backend, policies and decision by default", () => {
    const out = run("explain", "--policies", "policies", "GET", "http://localhost/reviews/1", "-H", "end-user: jason");
    expect(out.status).toBe(0);
    const lines = out.stdout.trim().split("\n");
    expect(lines.map((l) => l.split(":")[0])).toEqual(["request", "route", "backend", "policies", "decision"]);
    expect(lines[1]).toMatch(/^route: +default\/reviews, rule default\/reviews\/rule-0 \(PathPrefix \/reviews, header end-user == jason\)$/);
    expect(lines[2]).toMatch(/^backend: +default\/reviews-v2 100% \(http:\/\/127\.0\.0\.1:9084\)$/);
    expect(lines[3]).toContain("SecurityPolicy default/edge");
    expect(lines[4]).toMatch(/^decision: +forward to default\/reviews-v2$/);
  });

  it("a split, a refusal, a redirect, a rate limit and no route read as such", () => {
    const split = run("explain", "--policies", "policies", "/reviews/1", "--host", "bookinfo.local").stdout;
    expect(split).toMatch(/^request: +GET bookinfo\.local\/reviews\/1 /m);
    expect(split).toMatch(/^backend: +default\/reviews-v1 90% .*, default\/reviews-v3 10% /m);
    expect(split).toMatch(/^decision: +forward, weighted random over 2 backendRefs$/m);
    expect(run("explain", "--policies", "policies", "POST", "http://localhost/ratings/1").stdout).toMatch(/^decision: +403 access_denied: /m);
    expect(run("explain", "--policies", "policies", "http://localhost/").stdout).toMatch(/^decision: +302 redirect to http:\/\/localhost\/productpage$/m);
    expect(run("explain", "--policies", "policies", "http://localhost/details/1").stdout).toMatch(/^policies: .*RateLimitPolicy default\/details-per-client \(rule per-client, /m);
    const none = run("explain", "--policies", "policies", "http://localhost/nothing-here");
    expect(none.status).toBe(0);
    expect(none.stdout).toMatch(/^route: +none of the \d+ rule\(s\) for this host matched/m);
    expect(none.stdout).toMatch(/^decision: +404 no_route$/m);
  });

  it("--json prints the full trail", () => {
    const out = run("explain", "--policies", "policies", "--json", "/reviews/1", "--host", "example.com:8080");
    expect(out.status).toBe(0);
    const trail = JSON.parse(out.stdout) as { request: { host: string; port: number }; routing: { considered: unknown[] }; balance: unknown };
    expect(trail.request.host).toBe("example.com");
    expect(trail.request.port).toBe(8080);
    expect(trail.routing.considered.length).toBeGreaterThan(1);
    expect(trail.balance).toBeDefined();
  });

  it("a relative URL without --host says what to do; a bad --host says so", () => {
    const rel = run("explain", "--policies", "policies", "/reviews/1");
    expect(rel.status).toBe(1);
    expect(rel.stderr).toBe('meshgate: explain: "/reviews/1" is not a full URL: give one such as http://example.com/reviews/1, or the path with --host example.com\n');
    const bad = run("explain", "--policies", "policies", "/x", "--host", "a b");
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('--host "a b"');
    expect(run("explain", "--policies", "policies", "ftp://x/y").stderr).toContain("must be http:// or https://");
  });
});

describe("meshgate history on an empty store", () => {
  it("says there is nothing yet and exits 0, stdout empty", async () => {
    const file = join(await mkdtemp(join(tmpdir(), "meshgate-history-")), "none.json");
    const out = run("history", "--file", file);
    expect(out.status).toBe(0);
    expect(out.stdout).toBe("");
    expect(out.stderr).toBe(`no versions published to file:${file} yet (meshgate publish --policies DIR writes the first)\n`);
  });
});
